//! The one error type of the server-function boundary. It crosses the wire as JSON, so the
//! page can match on it; internal details never do: they are logged on the server and the
//! caller sees `Internal`.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please sign in to go on.")]
    Unauthenticated,
    #[error("Choose a new password before you go on.")]
    PasswordChangeRequired,
    /// Staff of an organisation that requires two-factor sign-in, before they set it up.
    #[error("Set up two-factor sign-in before you go on.")]
    TwoFactorSetupRequired,
    #[error("You are not allowed to do that.")]
    Forbidden,
    #[error("That was not found.")]
    NotFound,
    /// Input that does not parse; the text says what is wrong, for the person who typed it.
    #[error("{0}")]
    Invalid(String),
    /// Unknown e-mail and wrong password alike, so the answer reveals no accounts.
    #[error("That e-mail address and password do not match an account.")]
    BadCredentials,
    #[error("Too many attempts. Try again in {retry_after_minutes} minute(s).")]
    Throttled { retry_after_minutes: u32 },
    #[error("{0}")]
    Conflict(String),
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// Raised in the browser when the server could not be reached or answered nonsense.
    #[error("Could not reach the server ({0}).")]
    Transport(String),
}

impl AppError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthenticated => 401,
            AppError::PasswordChangeRequired
            | AppError::TwoFactorSetupRequired
            | AppError::Forbidden => 403,
            AppError::NotFound => 404,
            AppError::Invalid(_) => 422,
            AppError::BadCredentials => 401,
            AppError::Throttled { .. } => 429,
            AppError::Conflict(_) => 409,
            AppError::Internal | AppError::Transport(_) => 500,
        }
    }

    pub fn invalid(message: impl std::fmt::Display) -> Self {
        AppError::Invalid(message.to_string())
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(detail)
            | ServerFnErrorErr::Response(detail)
            | ServerFnErrorErr::Deserialization(detail) => AppError::Transport(detail),
            // Arguments that do not decode are malformed form input: say so, never 500.
            ServerFnErrorErr::Args(detail) | ServerFnErrorErr::MissingArg(detail) => {
                AppError::Invalid(format!(
                    "Some of the form's fields are missing or malformed ({detail})."
                ))
            }
            other => {
                #[cfg(feature = "ssr")]
                tracing::error!(error = %other, "server function failed");
                let _ = other;
                AppError::Internal
            }
        }
    }
}
