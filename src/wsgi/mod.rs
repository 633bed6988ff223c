//! The WSGI protocol (PEP 3333): environ, wsgi.input, start_response and
//! the response body, wsgi.file_wrapper, the application runner, and the
//! embedded-mode backend.

pub mod api;
pub mod backend;
pub mod embedded;
pub mod environ;
pub mod file_wrapper;
pub mod headers;
pub mod input;
pub mod proxy;
pub mod response;
pub mod runner;
pub mod variables;
