//! Fault injection: added latency, 5xx answers, dropped connections and forced rate
//! limiting, applied in front of the router so every API sees them alike.
//!
//! Dropping works at the hyper level: when the per-connection service returns an error,
//! hyper closes the connection without writing a response, which is what a client sees
//! when a load balancer or the network cuts a call.

use super::state::EmulatorState;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use futures::future::BoxFuture;
use rand::Rng;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::task::{Context, Poll};
use std::time::Duration;
use tower_service::Service;

/// What to break, as shares in `0.0..=1.0`. `Default` breaks nothing.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Faults {
    /// Added before every answer.
    pub latency: Duration,
    /// Share of requests answered with HTTP 503.
    pub error_rate: f64,
    /// Share of connections closed without any response.
    pub drop_rate: f64,
    /// Share of (authenticated) requests refused with RequestLimitExceeded / HTTP 429.
    pub force_rate_limit: f64,
}

impl Faults {
    pub fn none() -> Self {
        Faults::default()
    }

    /// Checks every share is a probability, naming the bad one.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("error rate", self.error_rate),
            ("drop rate", self.drop_rate),
            ("forced rate limit", self.force_rate_limit),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{name} {v} is not a share between 0 and 1"));
            }
        }
        Ok(())
    }
}

/// In plain words, for the emulator's banner: "300 ms latency, 10% HTTP 503, ...".
impl std::fmt::Display for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let percent = |share: f64| format!("{}%", (share * 1000.0).round() / 10.0);
        let mut parts = Vec::new();
        if !self.latency.is_zero() {
            parts.push(format!("{} ms added to every answer", self.latency.as_millis()));
        }
        if self.error_rate > 0.0 {
            parts.push(format!("{} of requests answered HTTP 503", percent(self.error_rate)));
        }
        if self.drop_rate > 0.0 {
            parts.push(format!(
                "{} of connections dropped without an answer",
                percent(self.drop_rate)
            ));
        }
        if self.force_rate_limit > 0.0 {
            parts.push(format!(
                "{} of requests refused as rate limited",
                percent(self.force_rate_limit)
            ));
        }
        if parts.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// Whether an event with probability `share` happens now.
pub(crate) fn roll(share: f64) -> bool {
    share > 0.0 && rand::rng().random::<f64>() < share
}

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
        std::future::ready(Ok(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_outside_zero_to_one_are_rejected() {
        assert!(Faults::none().validate().is_ok());
        let bad = Faults {
            drop_rate: 1.5,
            ..Faults::none()
        };
        assert!(bad.validate().unwrap_err().contains("drop rate"));
    }

    #[test]
    fn roll_respects_the_extremes() {
        assert!(!roll(0.0));
        assert!(roll(1.0));
    }
}
