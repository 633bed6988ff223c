//! The WSGI protocol (PEP 3333): environ, wsgi.input, start_response and
//! the response body, wsgi.file_wrapper, the application runner, and the
//! embedded-mode backend.

pub(crate) mod api;
pub(crate) mod backend;
pub(crate) mod embedded;
pub(crate) mod environ;
pub(crate) mod file_wrapper;
pub(crate) mod headers;
pub(crate) mod input;
pub(crate) mod proxy;
pub(crate) mod response;
pub(crate) mod runner;
pub(crate) mod variables;
