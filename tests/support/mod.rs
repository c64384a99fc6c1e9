//! What several test files share: reading the message of the panic a call raises.

use std::any::Any;

/// The text of a panic's payload ("" if it is not text).
pub fn panic_text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// The message of the panic `f` raises (it must raise one).
pub fn panic_message<R>(f: impl FnOnce() -> R) -> String {
    let e = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .err()
        .expect("a panic");
    panic_text(&*e)
}
