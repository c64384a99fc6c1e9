//! The harness's clock: `Instant`/`elapsed`/`-` like `std::time`, measuring either the
//! thread's on-CPU time (`CLOCK_THREAD_CPUTIME_ID`, the default) or wall-clock time
//! (`CLOCK=wall` in the environment; `std::time::Instant`).
//!
//! On a machine shared with other jobs, wall-clock time counts the time the benchmark spends
//! descheduled, which is not the engine's; on-CPU time does not (cache and memory-bandwidth
//! contention from the other jobs still count, in both).

use std::sync::OnceLock;

fn wall() -> bool {
    static WALL: OnceLock<bool> = OnceLock::new();
    *WALL.get_or_init(|| std::env::var("CLOCK").is_ok_and(|v| v == "wall"))
}

/// Which clock the rows were timed with, for the JSON lines.
pub fn name() -> &'static str {
    if wall() {
        "wall"
    } else {
        "thread-cpu"
    }
}

fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux supports.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// A point in time on the chosen clock.
#[derive(Clone, Copy)]
pub struct Instant {
    wall: std::time::Instant,
    cpu_ns: u64,
}

/// A span of time on the chosen clock.
#[derive(Clone, Copy)]
pub struct Duration(f64);

impl Duration {
    pub fn as_secs_f64(self) -> f64 {
        self.0
    }
}

impl Instant {
    pub fn now() -> Self {
        if wall() {
            Instant {
                wall: std::time::Instant::now(),
                cpu_ns: 0,
            }
        } else {
            let cpu_ns = thread_cpu_ns();
            Instant {
                wall: std::time::Instant::now(),
                cpu_ns,
            }
        }
    }

    pub fn elapsed(&self) -> Duration {
        Instant::now() - *self
    }
}

impl std::ops::Sub for Instant {
    type Output = Duration;
    fn sub(self, rhs: Instant) -> Duration {
        if wall() {
            Duration((self.wall - rhs.wall).as_secs_f64())
        } else {
            Duration((self.cpu_ns - rhs.cpu_ns) as f64 * 1e-9)
        }
    }
}
