//! Which process on which host holds something: a job's lease (the worker id) or a temporary
//! upload file (its name). Both carry `host:pid` first, so that a process can tell that the
//! holder is gone without waiting for a timeout: on the same host, a process id that no longer
//! exists is a dead holder (its lease is retaken at once, its temporary files removed).
//!
//! Holders on another host are never judged dead here: their leases expire and their files are
//! removed only when old (see [`crate::FsBlobStore::open`]). Two containers that share a host
//! name but not a process namespace could take each other's live workers for dead; the lease
//! fencing then keeps the job's data right (the older worker's writes are refused), at the cost
//! of repeated work, so give each container its own host name (Docker's default).

use std::sync::OnceLock;

/// This machine's host name (`uname -n`), read once.
pub fn host_name() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        let name = rustix::system::uname().nodename().to_string_lossy().into_owned();
        // `:` separates the parts of a worker id; `-` those of a temporary file name.
        name.replace([':', '/'], "_")
    })
}

/// `host:pid`, the prefix this process gives its worker ids.
pub fn holder_prefix() -> String {
    format!("{}:{}", host_name(), std::process::id())
}

/// True while a process with this id exists on this host (one we may not signal exists too).
pub fn is_alive(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else { return false };
    let Some(pid) = rustix::process::Pid::from_raw(raw) else { return false };
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        Err(err) => err != rustix::io::Errno::SRCH,
    }
}

/// True when `holder` (`host:pid:…`) names a process of this host that no longer exists.
/// Anything else (another host, another form) is not known to be dead.
pub fn holder_is_dead(holder: &str) -> bool {
    let mut parts = holder.split(':');
    let (Some(host), Some(pid)) = (parts.next(), parts.next()) else { return false };
    let Ok(pid) = pid.parse::<u32>() else { return false };
    host == host_name() && pid != std::process::id() && !is_alive(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_is_dead_only_on_this_host_with_its_process_gone() {
        let me = holder_prefix();
        assert!(!holder_is_dead(&format!("{me}:w0")), "this process is alive");
        // A child that has exited and been waited for: its pid is free.
        let mut child = std::process::Command::new("true").spawn().expect("spawn true");
        let pid = child.id();
        child.wait().expect("wait");
        assert!(holder_is_dead(&format!("{}:{pid}:w0", host_name())));
        assert!(!holder_is_dead(&format!("another-host-{}:{pid}:w0", host_name())));
        assert!(!holder_is_dead("worker-7"));
        assert!(!holder_is_dead(&format!("{}:notapid:w", host_name())));
    }
}
