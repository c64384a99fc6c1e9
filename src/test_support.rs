//! What the crate's unit tests share: reading the message of the panic a call raises.

/// The message of the panic `f` raises (it must raise one; "" if the payload is not text).
pub(crate) fn panic_message<R>(f: impl FnOnce() -> R) -> String {
    let e = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .err()
        .expect("a panic");
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}
