//! Errors: the library's status code, its kind, and its message.
use std::ffi::CStr;
use std::fmt;

use procmon_sys as sys;

/// What kind of failure a status code is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An argument outside its documented range (`PROCMON_EINVAL`).
    InvalidArgument,
    /// The context's memory cap was reached (`PROCMON_ENOMEM`); it stays usable.
    OutOfMemory,
    /// Permission denied (`PROCMON_EPERM`).
    PermissionDenied,
    /// No such file, process or object (`PROCMON_ENOENT`).
    NotFound,
    /// Input/output error (`PROCMON_EIO`).
    Io,
    /// Try again (`PROCMON_EAGAIN`).
    Again,
    /// Timed out (`PROCMON_ETIMEDOUT`).
    TimedOut,
    /// A wait was interrupted by a signal for the calling thread
    /// (`PROCMON_EINTR`): handle it, then wait again.
    Interrupted,
    /// The context or subscription was closed (`PROCMON_ECLOSED`).
    Closed,
    /// Not supported here (`PROCMON_EUNSUPPORTED`).
    Unsupported,
    /// An options struct version the library does not know (`PROCMON_EVERSION`).
    Version,
    /// Not allowed from inside this subscription's own dispatch callback (`PROCMON_EBUSY`).
    Busy,
    /// An internal error of procmon (`PROCMON_EINTERNAL`): please report it.
    Internal,
    /// The device is full (`PROCMON_ENOSPC`).
    NoSpace,
    /// Another writer holds the journal directory (`PROCMON_ELOCKED`).
    Locked,
    /// Not a procmon journal, or a newer format (`PROCMON_EFORMAT`).
    Format,
    /// procmond broke the protocol, speaks another version of it, or went
    /// away (`PROCMON_EPROTO`, since 0.4).
    Protocol,
    /// The process to signal is gone: it exited, or its pid now belongs to
    /// another process (`PROCMON_ENOENT` from a signal by identity, such as
    /// [`Context::signal`](crate::Context::signal)).
    Gone,
    /// A code this crate does not know (a newer library).
    Other,
}

impl ErrorKind {
    fn of(code: i32) -> ErrorKind {
        match code {
            sys::PROCMON_EINVAL => ErrorKind::InvalidArgument,
            sys::PROCMON_ENOMEM => ErrorKind::OutOfMemory,
            sys::PROCMON_EPERM => ErrorKind::PermissionDenied,
            sys::PROCMON_ENOENT => ErrorKind::NotFound,
            sys::PROCMON_EIO => ErrorKind::Io,
            sys::PROCMON_EAGAIN => ErrorKind::Again,
            sys::PROCMON_ETIMEDOUT => ErrorKind::TimedOut,
            sys::PROCMON_EINTR => ErrorKind::Interrupted,
            sys::PROCMON_ECLOSED => ErrorKind::Closed,
            sys::PROCMON_EUNSUPPORTED => ErrorKind::Unsupported,
            sys::PROCMON_EVERSION => ErrorKind::Version,
            sys::PROCMON_EBUSY => ErrorKind::Busy,
            sys::PROCMON_EINTERNAL => ErrorKind::Internal,
            sys::PROCMON_ENOSPC => ErrorKind::NoSpace,
            sys::PROCMON_ELOCKED => ErrorKind::Locked,
            sys::PROCMON_EFORMAT => ErrorKind::Format,
            sys::PROCMON_EPROTO => ErrorKind::Protocol,
            _ => ErrorKind::Other,
        }
    }
}

/// A failed procmon call: the status code, the OS errno behind it, and the
/// library's message naming what failed (e.g. "open /proc/123/stat:
/// Permission denied").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: i32,
    kind: ErrorKind,
    sys_errno: i32,
    message: String,
}

impl Error {
    /// The error of the call that just returned `code` on this thread (the
    /// library's error slot is thread-local).
    pub(crate) fn last(code: i32) -> Error {
        // SAFETY: procmon_error_last never returns NULL; its message is a
        // NUL-terminated string valid until the next failing call here.
        let e = unsafe { &*sys::procmon_error_last() };
        let message = if e.code == code && !e.message.is_null() {
            unsafe { CStr::from_ptr(e.message) }.to_string_lossy().into_owned()
        } else {
            strerror(code)
        };
        Error { code, kind: ErrorKind::of(code), sys_errno: if e.code == code { e.sys_errno } else { 0 }, message }
    }

    /// An error made by this crate, with the library's code for it.
    pub(crate) fn new(code: i32, message: impl Into<String>) -> Error {
        Error { code, kind: ErrorKind::of(code), sys_errno: 0, message: message.into() }
    }

    /// The same error, of a kind more precise than its code says.
    pub(crate) fn with_kind(self, kind: ErrorKind) -> Error {
        Error { kind, ..self }
    }

    /// The library's status code (negative, `PROCMON_E*`).
    pub fn code(&self) -> i32 {
        self.code
    }
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The OS errno behind it, 0 if none.
    pub fn sys_errno(&self) -> i32 {
        self.sys_errno
    }
    /// The library's message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

fn strerror(code: i32) -> String {
    // SAFETY: procmon_strerror returns static text, never NULL.
    unsafe { CStr::from_ptr(sys::procmon_strerror(code)) }.to_string_lossy().into_owned()
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// `Result` with procmon's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Ok(()) for PROCMON_OK, else the thread's last error.
pub(crate) fn check(code: i32) -> Result<()> {
    if code == sys::PROCMON_OK {
        Ok(())
    } else {
        Err(Error::last(code))
    }
}

/// Fills a struct through a procmon `*_get` call that reads its size first:
/// zeroed, its `size` set to this crate's.
///
/// # Safety
/// `T` is one of the header's structs that start with `uint32_t size`, and
/// all-zero bytes are a valid `T`.
pub(crate) unsafe fn get_sized<T>(get: impl FnOnce(*mut T) -> i32) -> Result<T> {
    let mut out = std::mem::MaybeUninit::<T>::zeroed();
    *(out.as_mut_ptr() as *mut u32) = std::mem::size_of::<T>() as u32;
    check(get(out.as_mut_ptr()))?;
    Ok(out.assume_init())
}
