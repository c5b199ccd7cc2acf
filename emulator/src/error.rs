//! EKS errors as the service sends them: an HTTP status, the
//! `x-amzn-ErrorType` header and a JSON body with `message` (plus
//! `clusterName` / `addonName` where the model has them).
//!
//! This module owns the error codes and their HTTP statuses; the messages
//! are written by the operations, copying the real texts from aws-facts.md.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

/// The error codes the emulator returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// 404: cluster, addon, association or update missing.
    ResourceNotFound,
    /// 409: the resource exists or is busy.
    ResourceInUse,
    /// 400: a parameter is invalid.
    InvalidParameter,
    /// 400: the request is not valid in the resource's current state.
    InvalidRequest,
    /// 400: a limit was reached.
    ResourceLimitExceeded,
    /// 400: malformed tagging request.
    BadRequest,
    /// 404: tagged resource missing.
    NotFound,
    /// 429: throttled.
    Throttling,
    /// 500: injected internal failure.
    InternalFailure,
    /// 500: the service failed (e.g. IAM unreachable).
    Server,
    /// 503: injected unavailability.
    ServiceUnavailable,
    /// 404: no operation at this method and path.
    UnknownOperation,
    /// 403: IAM PassRole refused (a role in another account; FACTS.md F3).
    AccessDenied,
}

impl Code {
    /// The code as sent in `x-amzn-ErrorType`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::ResourceNotFound => "ResourceNotFoundException",
            Code::ResourceInUse => "ResourceInUseException",
            Code::InvalidParameter => "InvalidParameterException",
            Code::InvalidRequest => "InvalidRequestException",
            Code::ResourceLimitExceeded => "ResourceLimitExceededException",
            Code::BadRequest => "BadRequestException",
            Code::NotFound => "NotFoundException",
            Code::Throttling => "ThrottlingException",
            Code::InternalFailure => "InternalFailure",
            Code::Server => "ServerException",
            Code::ServiceUnavailable => "ServiceUnavailableException",
            Code::UnknownOperation => "UnknownOperationException",
            Code::AccessDenied => "AccessDeniedException",
        }
    }

    /// The HTTP status EKS uses for the code.
    pub fn status(self) -> StatusCode {
        match self {
            Code::ResourceNotFound | Code::NotFound | Code::UnknownOperation => {
                StatusCode::NOT_FOUND
            }
            Code::ResourceInUse => StatusCode::CONFLICT,
            Code::InvalidParameter
            | Code::InvalidRequest
            | Code::ResourceLimitExceeded
            | Code::BadRequest => StatusCode::BAD_REQUEST,
            Code::Throttling => StatusCode::TOO_MANY_REQUESTS,
            Code::InternalFailure | Code::Server => StatusCode::INTERNAL_SERVER_ERROR,
            Code::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::AccessDenied => StatusCode::FORBIDDEN,
        }
    }
}

/// An error returned to the client.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct ApiError {
    /// The error code.
    pub code: Code,
    /// The message, as EKS words it.
    pub message: String,
    /// `clusterName` member of the error body, when relevant.
    pub cluster_name: Option<String>,
    /// `addonName` member of the error body, when relevant.
    pub addon_name: Option<String>,
}

impl ApiError {
    /// An error with a code and a message.
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            cluster_name: None,
            addon_name: None,
        }
    }

    /// Adds `clusterName` to the body.
    pub fn cluster(mut self, name: &str) -> ApiError {
        self.cluster_name = Some(name.to_owned());
        self
    }

    /// Adds `addonName` to the body.
    pub fn addon(mut self, name: &str) -> ApiError {
        self.addon_name = Some(name.to_owned());
        self
    }

    /// InvalidParameterException.
    pub fn invalid_parameter(message: impl Into<String>) -> ApiError {
        ApiError::new(Code::InvalidParameter, message)
    }

    /// InvalidRequestException.
    pub fn invalid_request(message: impl Into<String>) -> ApiError {
        ApiError::new(Code::InvalidRequest, message)
    }

    /// ResourceNotFoundException.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(Code::ResourceNotFound, message)
    }

    /// ResourceInUseException.
    pub fn in_use(message: impl Into<String>) -> ApiError {
        ApiError::new(Code::ResourceInUse, message)
    }

    /// `Cross-account pass role is not allowed.` (AccessDeniedException,
    /// 403): a role in another account, or an empty role ARN (FACTS.md F2,
    /// F3).
    pub fn cross_account_pass_role() -> ApiError {
        ApiError::new(
            Code::AccessDenied,
            "Cross-account pass role is not allowed.",
        )
    }

    /// A refusal of eks-emulator's strict mode (InvalidParameterException):
    /// something AWS may refuse where its documentation is silent
    /// (FACTS.md, "Strict mode"). The message says so, so that nobody takes
    /// it for an AWS text.
    pub fn strict(rule: &str, message: impl std::fmt::Display) -> ApiError {
        ApiError::invalid_parameter(format!("[eks-emulator strict mode, rule {rule}] {message}"))
    }

    /// `No cluster found for name: {name}.` (ResourceNotFoundException).
    pub fn cluster_not_found(name: &str) -> ApiError {
        ApiError::not_found(format!("No cluster found for name: {name}.")).cluster(name)
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("message".into(), Value::String(self.message.clone()));
        if let Some(c) = &self.cluster_name {
            body.insert("clusterName".into(), Value::String(c.clone()));
        }
        if let Some(a) = &self.addon_name {
            body.insert("addonName".into(), Value::String(a.clone()));
        }
        Value::Object(body)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.code.status(), json_body(&self.body())).into_response();
        response.headers_mut().insert(
            "x-amzn-ErrorType",
            HeaderValue::from_static(self.code.as_str()),
        );
        response
    }
}

/// A JSON body with the `application/json` content type.
pub fn json_body(value: &Value) -> Response {
    let mut response = value.to_string().into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
