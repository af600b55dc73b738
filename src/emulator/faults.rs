//! Fault injection: added latency, 5xx answers, dropped connections and forced rate
//! limiting, applied in front of the router so every API sees them alike.
//!
//! Dropping works at the hyper level: when the per-connection service returns an error,
//! hyper closes the connection without writing a response, which is what a client sees
//! when a load balancer or the network cuts a call.

use super::model::roll;
use super::state::EmulatorState;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use futures::future::BoxFuture;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::task::{Context, Poll};
use tower_service::Service;

/// The error that makes hyper drop the connection.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by fault injection")]
pub struct DroppedConnection;

/// Per-connection service: counts the request, applies faults, then runs the router.
#[derive(Clone)]
pub(crate) struct FaultService {
    router: Router,
    state: EmulatorState,
}

impl<B> Service<Request<B>> for FaultService
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response<Body>;
    type Error = DroppedConnection;
    type Future = BoxFuture<'static, Result<Response<Body>, DroppedConnection>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let mut router = self.router.clone();
        let state = self.state.clone();
        Box::pin(async move {
            let _handling = state.handling();
            state.count_request();
            let faults = state.faults();
            // Decide before awaiting: the thread-local RNG must not live across an await.
            let drop = roll(faults.drop_rate);
            let fail = !drop && roll(faults.error_rate);
            if !faults.latency.is_zero() {
                tokio::time::sleep(faults.latency).await;
            }
            if drop {
                return Err(DroppedConnection);
            }
            if fail {
                return Ok(injected_5xx(req.uri().path()));
            }
            let res = Service::call(&mut router, req).await;
            Ok(res.unwrap_or_else(|never: Infallible| match never {}))
        })
    }
}

/// A 503 shaped like each API's own error body, so clients exercise their 5xx path
/// rather than a parse error.
fn injected_5xx(path: &str) -> Response<Body> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let body = if path.starts_with("/api/") {
        serde_json::json!({
            "action": "",
            "data": null,
            "error": {"code": "SERVICE_UNAVAILABLE", "message": "Service temporarily unavailable (injected fault)."},
            "message": "Service temporarily unavailable (injected fault).",
            "requestId": request_id,
            "server": "emulator",
            "success": false,
        })
    } else {
        serde_json::json!({"Response": {
            "Error": {"Code": "InternalError", "Message": "Service temporarily unavailable (injected fault)."},
            "RequestId": request_id,
        }})
    };
    Response::builder()
        .status(StatusCode::SERVICE_UNAVAILABLE)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// Hands each accepted connection its `FaultService`.
#[derive(Clone)]
pub(crate) struct MakeFaultService(pub FaultService);

impl MakeFaultService {
    pub fn new(router: Router, state: EmulatorState) -> Self {
        MakeFaultService(FaultService { router, state })
    }
}

impl Service<SocketAddr> for MakeFaultService {
    type Response = FaultService;
    type Error = Infallible;
    type Future = std::future::Ready<Result<FaultService, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _peer: SocketAddr) -> Self::Future {
        self.0.state.count_connection();
        std::future::ready(Ok(self.0.clone()))
    }
}
