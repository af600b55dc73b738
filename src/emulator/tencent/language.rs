//! `X-TC-Language`: the language of error messages. The service accepts `zh-CN` and
//! `en-US`; the emulator answers in English when the header is absent. Only the common
//! errors keyward hints on have a Chinese text (the wording of Tencent's common error-code
//! table, doc 1230/79095); every other message stays English in both languages.

use crate::emulator::model::ApiError;
use axum::http::HeaderMap;

pub const HEADER: &str = "X-TC-Language";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Language {
    #[default]
    English,
    Chinese,
}

/// The values the header may take.
const ALLOWED: [(&str, Language); 2] = [("zh-CN", Language::Chinese), ("en-US", Language::English)];

/// Chinese texts by exact error code: the one table of translated messages.
const CHINESE: &[(&str, &str)] = &[
    ("RequestLimitExceeded", "请求的次数超过了频率限制。"),
    ("RequestLimitExceeded.UinLimitExceeded", "主账号限频。"),
    ("RequestLimitExceeded.IPLimitExceeded", "IP限频。"),
    (
        "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
        "主账号超过频率限制。",
    ),
    (
        "AuthFailure.InvalidAuthorization",
        "请求头部的 Authorization 不符合腾讯云标准。",
    ),
    (
        "AuthFailure.SecretIdNotFound",
        "密钥不存在。请在控制台检查密钥是否已被删除或者禁用，如状态正常，请检查密钥是否填写正确，注意前后不得有空格。",
    ),
    (
        "AuthFailure.SignatureExpire",
        "签名过期。Timestamp 和服务器时间相差不得超过五分钟，请检查本地时间是否和标准时间同步。",
    ),
    (
        "AuthFailure.SignatureFailure",
        "签名错误。签名计算错误，请对照调用方式中的签名方法文档检查签名计算过程。",
    ),
    ("UnsupportedRegion", "接口不支持所传地域。"),
    ("InvalidParameterValue.InvalidRegion", "地域错误。"),
    ("MissingParameter", "缺少参数错误。"),
];

impl Language {
    /// The request's language: absent means English; any value but the two allowed is an
    /// error naming them.
    pub fn of(headers: &HeaderMap) -> Result<Language, ApiError> {
        let Some(value) = headers.get(HEADER) else {
            return Ok(Language::default());
        };
        let text = value.to_str().unwrap_or_default();
        ALLOWED
            .iter()
            .find(|(name, _)| *name == text)
            .map(|(_, language)| *language)
            .ok_or_else(|| {
                ApiError::new(
                    "InvalidParameterValue",
                    format!("{HEADER} {text:?} is not supported: use zh-CN or en-US (or leave it out for English)."),
                )
            })
    }

    /// The error as this language tells it. In Chinese, a translated code gets its Chinese
    /// text, followed by the English detail (which header, region or limit) in brackets.
    pub fn localize(self, error: ApiError) -> ApiError {
        match self {
            Language::English => error,
            Language::Chinese => match CHINESE.iter().find(|(code, _)| *code == error.code) {
                Some((_, text)) => ApiError {
                    message: format!("{text}（{}）", error.message),
                    code: error.code,
                },
                None => error,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HEADER, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn the_two_documented_values_and_absence_are_accepted() {
        assert_eq!(Language::of(&HeaderMap::new()), Ok(Language::English));
        assert_eq!(Language::of(&with("en-US")), Ok(Language::English));
        assert_eq!(Language::of(&with("zh-CN")), Ok(Language::Chinese));
        let err = Language::of(&with("fr-FR")).unwrap_err();
        assert_eq!(err.code, "InvalidParameterValue");
        assert!(
            err.message.contains("zh-CN") && err.message.contains("en-US"),
            "{}",
            err.message
        );
        assert!(err.message.contains("fr-FR"), "{}", err.message);
    }

    #[test]
    fn chinese_translates_the_common_codes_and_keeps_the_detail() {
        let limited = ApiError::new("RequestLimitExceeded.UinLimitExceeded", "over 5 per second");
        let zh = Language::Chinese.localize(limited.clone());
        assert_eq!(zh.code, limited.code);
        assert_eq!(zh.message, "主账号限频。（over 5 per second）");
        assert_eq!(Language::English.localize(limited.clone()), limited);
        // A business error has no translation and stays as it was.
        let business = ApiError::new("InvalidKeyPairId.NotFound", "skey-x does not exist");
        assert_eq!(Language::Chinese.localize(business.clone()), business);
    }
}
