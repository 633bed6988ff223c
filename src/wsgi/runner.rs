//! Running a WSGI application for one request, whatever the transport
//! (Apache in embedded mode, a daemon socket in daemon mode): load the
//! script, add wsgi.input/wsgi.errors and friends to environ, call the
//! application, send what it returns, always call close(), and turn every
//! failure into a 500 (or a cut response once output started) with the
//! traceback in the error log.

use super::api;
use super::backend::{Channel, SendError};
use super::file_wrapper::FileWrapper;
use super::input::Input;
use super::response::Responder;
use crate::httpd::log::{self, Level};
use crate::python::environ_dict::FIXED_KEYS;
use crate::python::logstream::{request_errors, LogStream};
use crate::python::{format_exception, script};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyList, PyTuple};
use std::path::Path;

/// What to run, and the settings that shape the response.
pub(crate) struct Job<'a> {
    pub(crate) script: &'a Path,
    /// The file the request maps to (SCRIPT_FILENAME), the resource the
    /// script's `reload_required()` is asked about.
    pub(crate) resource: &'a Path,
    pub(crate) application_group: &'a str,
    pub(crate) callable: &'a str,
    pub(crate) script_reloading: bool,
    /// The script's modification time as Apache already found it
    /// (microseconds since the epoch): reloading compares it instead of
    /// making a stat of its own. None: stat the script.
    pub(crate) script_mtime_us: Option<i64>,
    pub(crate) error_override: bool,
    pub(crate) enable_sendfile: bool,
    pub(crate) multithread: bool,
    pub(crate) multiprocess: bool,
    pub(crate) timing: Timing,
}

/// The request's instants, in microseconds since the epoch (0: none, as
/// queue and daemon start in embedded mode). environ carries them as
/// float seconds (mod_wsgi 6.1's `mod_wsgi.request_start` …).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Timing {
    /// When Apache read the request line.
    pub(crate) request_start_us: i64,
    /// When the Apache child took the request to relay it to a daemon.
    pub(crate) queue_start_us: i64,
    /// When a daemon thread took the request.
    pub(crate) daemon_start_us: i64,
}

fn seconds(us: i64) -> f64 {
    us as f64 / 1e6
}

/// This thread's number in the process (1, 2, …, in the order threads
/// first ran a request): mod_wsgi 6.1's `mod_wsgi.thread_id`.
fn thread_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static ID: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    ID.with(|id| *id)
}

/// How the request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Response sent (or the client went away).
    Done,
    /// Nothing sent: the server answers with this status.
    Status(u16),
}

pub(crate) const INTERNAL_ERROR: Outcome = Outcome::Status(500);

fn log_to(py: Python<'_>, channel: &Channel, level: Level, msg: String) {
    let copy = msg.clone();
    if channel.io(py, move |b| b.log(level, &copy)).is_none() {
        log::server(level, &msg);
    }
}

fn log_exception(py: Python<'_>, channel: &Channel, script: &Path, err: &PyErr) {
    api::events::request_exception(py, err);
    let tb = format_exception(py, err);
    log_to(
        py,
        channel,
        Level::Err,
        format!(
            "Exception occurred processing WSGI script '{}'.\n{tb}",
            script.display()
        ),
    );
}

/// The version tuples environ carries, made once per process (tuples of
/// ints are immutable, so every request shares them).
struct Versions {
    wsgi: Py<PyTuple>,
    mod_wsgi: Py<PyTuple>,
    apache: Py<PyTuple>,
}

fn versions(py: Python<'_>) -> PyResult<&Versions> {
    static VERSIONS: pyo3::sync::PyOnceLock<Versions> = pyo3::sync::PyOnceLock::new();
    VERSIONS.get_or_try_init(py, || {
        let triple = |v: (i32, i32, i32)| PyTuple::new(py, [v.0, v.1, v.2]).map(Bound::unbind);
        Ok(Versions {
            wsgi: PyTuple::new(py, [1, 0])?.unbind(),
            mod_wsgi: triple(api::attributes::API_VERSION)?,
            apache: triple(crate::httpd::server::httpd_version())?,
        })
    })
}

/// The values of `environ_dict::FIXED_KEYS` for a job: the same objects
/// for every request of a process.
pub(crate) fn fixed_entries<'py>(
    py: Python<'py>,
    job: &Job<'_>,
) -> PyResult<[Bound<'py, PyAny>; FIXED_KEYS.len()]> {
    let v = versions(py)?;
    Ok([
        v.wsgi.bind(py).clone().into_any(),
        PyBool::new(py, job.multithread).to_owned().into_any(),
        PyBool::new(py, job.multiprocess).to_owned().into_any(),
        PyBool::new(py, false).to_owned().into_any(),
        PyBool::new(py, true).to_owned().into_any(),
        py.get_type::<FileWrapper>().into_any(),
        v.mod_wsgi.bind(py).clone().into_any(),
        v.apache.bind(py).clone().into_any(),
    ])
}

/// Runs the application for one request. `environ` already holds the
/// request's string variables and its `fixed_entries`; the channel is
/// closed before returning.
/// A response whose end is still to be sent comes back as `Finish`: the
/// caller sends it once it has released the GIL (`Finish::send`).
pub(crate) fn run(
    py: Python<'_>,
    job: &Job<'_>,
    environ: &Bound<'_, PyDict>,
    channel: Channel,
) -> (Outcome, Option<Finish>) {
    let begin = api::Begin {
        group: job.application_group,
        daemon_start_us: (job.timing.daemon_start_us != 0).then_some(job.timing.daemon_start_us),
        channel: &channel,
    };
    let mut scope = api::Scope::enter(py, &begin, environ);
    let mut end = api::End::default();
    let mut deferred = false;
    let outcome = run_app(py, job, environ, &mut scope, &mut end, &mut deferred);
    if let Outcome::Status(code) = outcome {
        end.status = code;
        channel.io(py, move |b| b.respond_status(code));
    }
    scope.exit(py, &end);
    let backend = channel.close();
    let finish = match (deferred, backend) {
        (true, Some(b)) => Some(Finish(b)),
        _ => None,
    };
    (outcome, finish)
}

/// startup-timeout= (daemon mode), as mod_wsgi times it: the clock starts
/// when the first request of the process tries to load its WSGI script and
/// stops for good once a script loads; the daemon's monitor restarts a
/// process whose clock runs past the limit (an application that failed at
/// import, e.g. Django's "populate() isn't reentrant", stays broken in that
/// process).
pub(crate) mod startup {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    static FIRST_ATTEMPT: OnceLock<Instant> = OnceLock::new();
    static LOADED: AtomicBool = AtomicBool::new(false);

    pub(super) fn attempted() {
        FIRST_ATTEMPT.get_or_init(Instant::now);
    }

    pub(super) fn loaded() {
        // Read first: every request comes here, the store happens once.
        if !LOADED.load(Ordering::Relaxed) {
            LOADED.store(true, Ordering::Relaxed);
        }
    }

    /// How long requests have been trying to load the application without
    /// success; None before the first request and once a script loaded.
    pub(crate) fn pending_for() -> Option<Duration> {
        if LOADED.load(Ordering::Relaxed) {
            return None;
        }
        FIRST_ATTEMPT.get().map(Instant::elapsed)
    }
}

/// The end of a response, staged in its backend, to be sent without the GIL.
pub(crate) struct Finish(Box<dyn crate::wsgi::backend::Backend>);

impl Finish {
    pub(crate) fn send(mut self) {
        if let Err(SendError::ClientGone) = self.0.flush(true) {
            self.0.log(
                Level::Info,
                "the client closed the connection before the response was complete",
            );
        }
    }
}

fn run_app(
    py: Python<'_>,
    job: &Job<'_>,
    environ: &Bound<'_, PyDict>,
    scope: &mut api::Scope,
    end: &mut api::End,
    deferred: &mut bool,
) -> Outcome {
    let channel = &scope.channel();
    startup::attempted();
    let module = match script::load_for(
        py,
        job.script,
        Some(job.resource),
        job.application_group,
        job.script_reloading,
        job.script_mtime_us,
    ) {
        Ok(m) => {
            startup::loaded();
            m
        }
        Err(script::LoadError::Unreadable(msg)) => {
            log_to(py, channel, Level::Err, msg);
            return INTERNAL_ERROR;
        }
        Err(script::LoadError::Failed(e)) => {
            log_to(
                py,
                channel,
                Level::Err,
                format!(
                    "Failed to exec Python script file '{}'.",
                    job.script.display()
                ),
            );
            log_exception(py, channel, job.script, &e);
            return INTERNAL_ERROR;
        }
    };
    // The name as a cached, interned str (no new string, no hashing).
    let callable = crate::python::strings::environ_key(py, job.callable.as_bytes());
    let Ok(app) = module.bind(py).getattr(callable) else {
        log_to(
            py,
            channel,
            Level::Err,
            format!(
                "Target WSGI script '{}' does not contain WSGI application '{}'.",
                job.script.display(),
                job.callable
            ),
        );
        return INTERNAL_ERROR;
    };
    type Prepared<'py> = (
        Bound<'py, Responder>,
        Bound<'py, LogStream>,
        Bound<'py, Input>,
    );
    let prepared = (|| -> PyResult<Prepared<'_>> {
        // CONTENT_LENGTH sizes wsgi.input's buffer (a hint only: reads
        // still go on until the backend says the body ended).
        let length_hint = environ
            .get_item(intern!(py, "CONTENT_LENGTH"))?
            .and_then(|v| v.extract::<String>().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let input = Bound::new(py, Input::new(channel.clone(), length_hint))?;
        let (errors, errors_text) = request_errors(py, Box::new(channel.clone()))?;
        let head = environ
            .get_item(intern!(py, "REQUEST_METHOD"))?
            .is_some_and(|m| m.eq("HEAD").unwrap_or(false));
        let responder = Bound::new(
            py,
            Responder::new(channel.clone(), job.error_override, head),
        )?;
        let d = environ;
        d.set_item(intern!(py, "wsgi.input"), &input)?;
        d.set_item(intern!(py, "wsgi.errors"), errors_text)?;
        let t = job.timing;
        d.set_item(
            intern!(py, "mod_wsgi.request_start"),
            seconds(t.request_start_us),
        )?;
        d.set_item(
            intern!(py, "mod_wsgi.queue_start"),
            seconds(t.queue_start_us),
        )?;
        d.set_item(
            intern!(py, "mod_wsgi.daemon_start"),
            seconds(t.daemon_start_us),
        )?;
        d.set_item(
            intern!(py, "mod_wsgi.application_start"),
            seconds(crate::wsgi::variables::now_us()),
        )?;
        d.set_item(intern!(py, "mod_wsgi.thread_id"), thread_id())?;
        Ok((responder, errors, input))
    })();
    let (responder, errors, input) = match prepared {
        Ok(p) => p,
        Err(e) => {
            log_exception(py, channel, job.script, &e);
            return INTERNAL_ERROR;
        }
    };
    let app = scope.started(py, job.callable, environ, app);
    let outcome = call_and_respond(py, job, channel, &app, environ, &responder);
    {
        let (r, i) = (responder.borrow(), input.borrow());
        end.status = r.status_code().unwrap_or(0);
        end.output_length = r.output_length();
        end.output_writes = r.output_writes();
        end.input_length = i.consumed;
        end.input_reads = i.reads();
    }
    errors.borrow_mut().end_request(py);
    *deferred = responder.borrow().end_deferred;
    outcome
}

fn fail(
    py: Python<'_>,
    job: &Job<'_>,
    channel: &Channel,
    responder: &Bound<'_, Responder>,
    message: Option<String>,
    err: Option<&PyErr>,
) -> Outcome {
    if err.is_some_and(|e| api::timeout::matches(py, e)) {
        return interrupted(py, channel, responder);
    }
    if let Some(msg) = message {
        log_to(
            py,
            channel,
            Level::Err,
            format!("{msg} (WSGI script '{}')", job.script.display()),
        );
    }
    if let Some(e) = err {
        log_exception(py, channel, job.script, e);
    }
    let mut resp = responder.borrow_mut();
    if resp.headers_sent() {
        resp.abort(py);
        Outcome::Done
    } else {
        INTERNAL_ERROR
    }
}

/// The injected RequestTimeout reached the runner: 504 if nothing was sent
/// yet, else the response is cut; the thread goes on serving.
fn interrupted(py: Python<'_>, channel: &Channel, responder: &Bound<'_, Responder>) -> Outcome {
    let mut resp = responder.borrow_mut();
    if resp.headers_sent() {
        log_to(
            py,
            channel,
            Level::Info,
            "Request interrupted by RequestTimeout after headers sent; response truncated.".into(),
        );
        resp.abort(py);
        Outcome::Done
    } else {
        log_to(
            py,
            channel,
            Level::Info,
            "Request interrupted by RequestTimeout; thread recovered.".into(),
        );
        Outcome::Status(504)
    }
}

fn call_and_respond(
    py: Python<'_>,
    job: &Job<'_>,
    channel: &Channel,
    app: &Bound<'_, PyAny>,
    environ: &Bound<'_, PyDict>,
    responder: &Bound<'_, Responder>,
) -> Outcome {
    let result = match app.call1((environ, responder)) {
        Ok(res) => res,
        Err(e) => {
            let problem = responder.borrow_mut().problem.take();
            return fail(py, job, channel, responder, problem, Some(&e));
        }
    };
    let outcome = send_result(py, job, channel, &result, responder);
    // A plain list or tuple has no close() (asking would raise and clear an
    // AttributeError on every such response).
    let plain = result.is_exact_instance_of::<PyList>() || result.is_exact_instance_of::<PyTuple>();
    let has_close = if plain {
        Ok(false)
    } else {
        result.hasattr(intern!(py, "close"))
    };
    let close_failed = match has_close {
        Ok(true) => result.call_method0(intern!(py, "close")).err(),
        Ok(false) => None,
        Err(e) => Some(e),
    };
    match close_failed {
        None => outcome,
        Some(e) if api::timeout::matches(py, &e) => outcome,
        Some(e) => {
            log_exception(py, channel, job.script, &e);
            match outcome {
                Outcome::Done => Outcome::Done,
                Outcome::Status(_) => INTERNAL_ERROR,
            }
        }
    }
}

fn block_bytes<'a, 'py>(item: &'a Bound<'py, PyAny>) -> Result<&'a Bound<'py, PyBytes>, String> {
    item.cast::<PyBytes>().map_err(|_| {
        format!(
            "the application yielded {} instead of bytes (PEP 3333 requires bytes)",
            item.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        )
    })
}

fn send_result(
    py: Python<'_>,
    job: &Job<'_>,
    channel: &Channel,
    result: &Bound<'_, PyAny>,
    responder: &Bound<'_, Responder>,
) -> Outcome {
    let on_send_error = |e: SendError| -> Outcome {
        match e {
            SendError::ClientGone => {
                log_to(
                    py,
                    channel,
                    Level::Info,
                    "the client closed the connection before the response was complete".into(),
                );
                Outcome::Done
            }
            SendError::App(msg) => fail(py, job, channel, responder, Some(msg), None),
        }
    };

    // A file handed over through wsgi.file_wrapper goes out as a file. The
    // backend holds its own duplicate of the descriptor, so the send can
    // wait until the GIL is released for good, after close().
    if let Ok(wrapper) = result.cast::<FileWrapper>() {
        if responder.borrow().started() {
            if let Some(file) = wrapper.borrow().as_file(py) {
                responder.borrow_mut().may_defer_end = true;
                let sent = responder.borrow_mut().send_file(
                    py,
                    file.fd,
                    file.offset,
                    file.len,
                    job.enable_sendfile,
                );
                match sent {
                    Ok(true) => return overridden(responder).unwrap_or(Outcome::Done),
                    Ok(false) => responder.borrow_mut().may_defer_end = false,
                    Err(e) => return on_send_error(e),
                }
            }
        }
    }

    // A list or tuple: its length is known, so the last block carries the
    // end of the response (one pass for a one-block response).
    let sequence: Option<Vec<Bound<'_, PyAny>>> = if let Ok(list) = result.cast::<PyList>() {
        Some(list.iter().collect())
    } else if let Ok(tuple) = result.cast::<PyTuple>() {
        Some(tuple.iter().collect())
    } else {
        None
    };
    if let Some(items) = sequence {
        // Nothing of the application runs after a list (no close()): the
        // last pass down the filters can wait until the GIL is released
        // for good, saving a release and re-take of the GIL.
        responder.borrow_mut().may_defer_end = true;
        let n = items.len();
        for (i, item) in items.iter().enumerate() {
            let bytes = match block_bytes(item) {
                Ok(b) => b,
                Err(msg) => return fail(py, job, channel, responder, Some(msg), None),
            };
            let sent = responder.borrow_mut().send(py, bytes, i + 1 == n);
            if let Err(e) = sent {
                return on_send_error(e);
            }
            if responder.borrow().complete() {
                break;
            }
        }
    } else {
        let iter = match result.try_iter() {
            Ok(it) => it,
            Err(e) => {
                return fail(
                    py,
                    job,
                    channel,
                    responder,
                    Some("the application's return value is not iterable".into()),
                    Some(&e),
                )
            }
        };
        for item in iter {
            let item = match item {
                Ok(i) => i,
                Err(e) => {
                    let problem = responder.borrow_mut().problem.take();
                    return fail(py, job, channel, responder, problem, Some(&e));
                }
            };
            let bytes = match block_bytes(&item) {
                Ok(b) => b,
                Err(msg) => return fail(py, job, channel, responder, Some(msg), None),
            };
            let sent = responder.borrow_mut().send(py, bytes, false);
            if let Err(e) = sent {
                return on_send_error(e);
            }
            if responder.borrow().complete() {
                break;
            }
        }
    }
    let finished = responder.borrow_mut().finish(py);
    if let Err(e) = finished {
        return on_send_error(e);
    }
    overridden(responder).unwrap_or(Outcome::Done)
}

fn overridden(responder: &Bound<'_, Responder>) -> Option<Outcome> {
    responder.borrow().overridden().map(Outcome::Status)
}

/// Executes a script at process start (WSGIImportScript, or a
/// WSGIScriptAlias with both groups given), logging any failure.
pub(crate) fn preload(path: &Path, group: &str) {
    crate::python::thread::ensure();
    Python::attach(|py| {
        // mod_wsgi.application_group, while the script's module runs.
        api::current::set_group(Some(pyo3::types::PyString::new(py, group).unbind()));
        let loaded = script::preload(py, path, group);
        api::current::set_group(None);
        preloaded(py, path, loaded)
    });
}

fn preloaded(py: Python<'_>, path: &Path, loaded: Result<(), script::LoadError>) {
    match loaded {
        Ok(()) => log::server(
            Level::Info,
            &format!("Preloaded WSGI script '{}'.", path.display()),
        ),
        Err(script::LoadError::Unreadable(msg)) => log::server(Level::Err, &msg),
        Err(script::LoadError::Failed(e)) => log::server(
            Level::Err,
            &format!(
                "Failed to preload WSGI script '{}'.\n{}",
                path.display(),
                format_exception(py, &e)
            ),
        ),
    }
}
