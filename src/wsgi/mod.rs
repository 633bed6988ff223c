//! The WSGI protocol (PEP 3333): environ, wsgi.input, start_response and
//! the response body, wsgi.file_wrapper, and the embedded-mode runner.

pub mod environ;
pub mod file_wrapper;
pub mod handler;
pub mod headers;
pub mod input;
pub mod response;
