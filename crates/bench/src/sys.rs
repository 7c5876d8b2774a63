//! Process set-up for a load generator: CPU pinning, file-descriptor limit, and reading another
//! process's CPU time and RSS from /proc (Linux).

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// Pins the calling thread (call before building the runtime: threads inherit the mask).
pub fn pin_to_cpu(cpu: usize) -> anyhow::Result<()> {
    let ids = core_affinity::get_core_ids().context("cannot list CPUs")?;
    let Some(id) = ids.into_iter().find(|c| c.id == cpu) else {
        bail!("--cpu {cpu}: no such CPU");
    };
    if !core_affinity::set_for_current(id) {
        bail!("cannot pin to CPU {cpu}");
    }
    Ok(())
}

/// Raises RLIMIT_NOFILE to the hard limit and returns the new soft limit.
pub fn raise_nofile() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024)
}

/// Linux reports CPU times in USER_HZ ticks, which is 100 on every mainstream architecture.
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU time (user + system) and resident memory of a process at one moment.
#[derive(Clone, Copy, Debug)]
pub struct ProcSample {
    pub cpu_seconds: f64,
    pub rss_kib: u64,
}

pub fn sample(pid: u32) -> anyhow::Result<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat (--server-pid)"))?;
    // The command name is in parentheses and may contain spaces: split after the last ')'.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("malformed /proc/PID/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3 of stat(5), so utime (14) and stime (15) are at 11 and 12.
    let ticks = |i: usize| -> anyhow::Result<f64> {
        Ok(fields
            .get(i)
            .context("short /proc/PID/stat")?
            .parse::<u64>()? as f64)
    };
    let cpu_seconds = (ticks(11)? + ticks(12)?) / TICKS_PER_SECOND;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmRSS in /proc/PID/status")?;
    Ok(ProcSample {
        cpu_seconds,
        rss_kib,
    })
}

/// Machine facts recorded with every run, so figures can be compared honestly.
pub fn machine() -> Value {
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let loadavg = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    json!({
        "nproc": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu_model": cpu_model,
        "kernel": kernel,
        "loadavg": loadavg,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_self() {
        let s = sample(std::process::id()).unwrap();
        assert!(s.rss_kib > 0);
        assert!(s.cpu_seconds >= 0.0);
    }
}
