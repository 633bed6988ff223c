//! The event bus of the `mod_wsgi` module: `subscribe_events(callback)`
//! adds to `event_callbacks`, `subscribe_shutdown(callback)` to
//! `shutdown_callbacks`. A callback is called as `callback(name, **event)`;
//! one that returns a dict has its keys merged into the event the next
//! callbacks (and, for `request_started`, the runner) see. Events:
//! `request_started`, `response_started`, `request_finished`,
//! `request_exception`, `process_stopping` (which also goes to the
//! shutdown callbacks).
//!
//! Nothing is built when no one subscribed: `subscribed` is one length
//! check of the list, made before any event dict exists.

use super::current;
use crate::httpd::log::{self, Level};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyTuple};

static EVENT_CALLBACKS: PyOnceLock<Py<PyList>> = PyOnceLock::new();
static SHUTDOWN_CALLBACKS: PyOnceLock<Py<PyList>> = PyOnceLock::new();

/// Adds the lists and the subscribe functions to the module.
pub(crate) fn install(py: Python<'_>, m: &Bound<'_, PyModule>) -> PyResult<()> {
    let events = EVENT_CALLBACKS.get_or_init(py, || PyList::empty(py).unbind());
    let shutdown = SHUTDOWN_CALLBACKS.get_or_init(py, || PyList::empty(py).unbind());
    m.add("event_callbacks", events.bind(py))?;
    m.add("shutdown_callbacks", shutdown.bind(py))?;
    m.add_function(pyo3::wrap_pyfunction!(subscribe_events, m)?)?;
    m.add_function(pyo3::wrap_pyfunction!(subscribe_shutdown, m)?)?;
    Ok(())
}

/// `mod_wsgi.subscribe_events(callback)`: the callback gets every event;
/// returned, so it may be used as a decorator.
#[pyfunction]
fn subscribe_events<'py>(
    py: Python<'py>,
    callback: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    if let Some(list) = EVENT_CALLBACKS.get(py) {
        list.bind(py).append(&callback)?;
    }
    Ok(callback)
}

/// `mod_wsgi.subscribe_shutdown(callback)`: the callback gets
/// `process_stopping` only.
#[pyfunction]
fn subscribe_shutdown<'py>(
    py: Python<'py>,
    callback: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    if let Some(list) = SHUTDOWN_CALLBACKS.get(py) {
        list.bind(py).append(&callback)?;
    }
    Ok(callback)
}

/// Whether anyone subscribed to events (checked before building one).
#[inline]
pub(crate) fn subscribed(py: Python<'_>) -> bool {
    EVENT_CALLBACKS
        .get(py)
        .is_some_and(|l| !l.bind(py).is_empty())
}

fn log_callback_error(py: Python<'_>, name: &str, err: &PyErr) {
    let msg = format!(
        "Exception occurred within event callback for '{name}'.\n{}",
        crate::python::format_exception(py, err)
    );
    let sent = current::with(|c| c.map(|c| c.channel.clone())).and_then(|ch| {
        let m = msg.clone();
        ch.io(py, move |b| b.log(Level::Err, &m))
    });
    if sent.is_none() {
        log::server(Level::Err, &msg);
    }
}

fn call_all(py: Python<'_>, list: &Bound<'_, PyList>, name: &str, event: &Bound<'_, PyDict>) {
    // A snapshot: a callback that subscribes or unsubscribes does not change
    // who gets this event.
    let snapshot: Vec<Bound<'_, PyAny>> = list.iter().collect();
    let args = match PyTuple::new(py, [name]) {
        Ok(a) => a,
        Err(e) => return log_callback_error(py, name, &e),
    };
    for callback in snapshot {
        match callback.call(&args, Some(event)) {
            Ok(result) => {
                if let Ok(update) = result.cast::<PyDict>() {
                    if let Err(e) = event.update(update.as_mapping()) {
                        log_callback_error(py, name, &e);
                    }
                }
            }
            Err(e) => log_callback_error(py, name, &e),
        }
    }
}

/// Delivers an event to the subscribers (and `process_stopping` to the
/// shutdown callbacks too).
pub(crate) fn publish(py: Python<'_>, name: &str, event: &Bound<'_, PyDict>) {
    if let Some(list) = EVENT_CALLBACKS.get(py) {
        call_all(py, list.bind(py), name, event);
    }
    if name == "process_stopping" {
        if let Some(list) = SHUTDOWN_CALLBACKS.get(py) {
            call_all(py, list.bind(py), name, event);
        }
    }
}

fn with_request<'py>(py: Python<'py>, event: &Bound<'py, PyDict>) -> PyResult<()> {
    current::with(|c| -> PyResult<()> {
        if let Some(c) = c {
            event.set_item("request_id", c.id.bind(py))?;
            event.set_item("request_data", c.data.bind(py))?;
        }
        Ok(())
    })
}

/// `response_started`: start_response was called with these arguments.
pub(crate) fn response_started(
    py: Python<'_>,
    status: &Bound<'_, PyAny>,
    headers: &Bound<'_, PyAny>,
    exc_info: Option<&Bound<'_, PyAny>>,
) {
    if !subscribed(py) {
        return;
    }
    let event = PyDict::new(py);
    let built = (|| -> PyResult<()> {
        with_request(py, &event)?;
        event.set_item("response_status", status)?;
        event.set_item("response_headers", headers)?;
        event.set_item(
            "exception_info",
            exc_info.map_or_else(|| py.None(), |e| e.clone().unbind()),
        )?;
        Ok(())
    })();
    match built {
        Ok(()) => publish(py, "response_started", &event),
        Err(e) => log_callback_error(py, "response_started", &e),
    }
}

/// `request_exception`: an exception is being logged for the request.
pub(crate) fn request_exception(py: Python<'_>, err: &PyErr) {
    if !subscribed(py) {
        return;
    }
    let event = PyDict::new(py);
    let built = (|| -> PyResult<()> {
        with_request(py, &event)?;
        let info = PyTuple::new(
            py,
            [
                err.get_type(py).into_any(),
                err.value(py).clone().into_any(),
                err.traceback(py)
                    .map_or_else(|| py.None().into_bound(py), |t| t.into_any()),
            ],
        )?;
        event.set_item("exception_info", info)?;
        Ok(())
    })();
    match built {
        Ok(()) => publish(py, "request_exception", &event),
        Err(e) => log_callback_error(py, "request_exception", &e),
    }
}

/// `process_stopping`: the process is about to exit (`reason` as 6.1
/// names it: "maximum_requests", "request_timeout", "shutdown_signal", …;
/// "" for an Apache child).
pub(crate) fn process_stopping(py: Python<'_>, reason: &str) {
    let anyone = subscribed(py)
        || SHUTDOWN_CALLBACKS
            .get(py)
            .is_some_and(|l| !l.bind(py).is_empty());
    if !anyone {
        return;
    }
    let event = PyDict::new(py);
    match event.set_item("shutdown_reason", reason) {
        Ok(()) => publish(py, "process_stopping", &event),
        Err(e) => log_callback_error(py, "process_stopping", &e),
    }
}
