//! `hal9ctl disk usage|cleanup` on real files in temp trees, with real
//! child processes holding files open and real tmpfs mounts where possible.

use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::common::*;

const DAY: u64 = 86_400;

/// A test tree: `state/` is the state dir, `root/` the cleanup root.
struct Tree {
    _dir: tempfile::TempDir,
    base: PathBuf,
    state: PathBuf,
    root: PathBuf,
}

fn tree() -> Tree {
    let dir = tempdir();
    let base = dir.path().canonicalize().unwrap();
    let state = base.join("state");
    let root = base.join("root");
    fs::create_dir_all(&state).unwrap();
    fs::create_dir_all(&root).unwrap();
    Tree {
        _dir: dir,
        base,
        state,
        root,
    }
}

/// Write `len` bytes (not sparse) and set the modification time `days` ago.
fn file(path: &Path, len: usize, days: u64) {
    if let Some(p) = path.parent() {
        fs::create_dir_all(p).unwrap();
    }
    let mut f = File::create(path).unwrap();
    f.write_all(&vec![0x5a; len]).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(days * DAY))
        .unwrap();
    f.sync_all().unwrap();
}

fn disk(state: &Path, args: &[&str]) -> Output {
    run(hal9ctl(state).arg("disk").args(args).stdin(Stdio::null()))
}

fn cleanup_json(t: &Tree, extra: &[&str]) -> (Output, Value) {
    let root = t.root.to_str().unwrap();
    let mut args = vec!["cleanup", root, "-o", "json"];
    args.extend_from_slice(extra);
    let o = disk(&t.state, &args);
    let v = if o.stdout.is_empty() {
        Value::Null
    } else {
        json(&o)
    };
    (o, v)
}

/// A child that holds `path` open on its stdin; killed (by PID) on drop.
struct Holder(Child);

impl Holder {
    fn new(path: &Path) -> Holder {
        let child = Command::new("sleep")
            .arg("600")
            .stdin(File::open(path).unwrap())
            .spawn()
            .unwrap();
        Holder(child)
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn held(&self) -> fs::Metadata {
        fs::metadata(format!("/proc/{}/fd/0", self.pid())).unwrap()
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A tmpfs this test mounted; unmounted on drop.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Mount a private tmpfs at `dir`, or say why not (not root, no mount(8) …).
fn tmpfs(dir: &Path, size: &str) -> Result<Mount, String> {
    fs::create_dir_all(dir).unwrap();
    let o = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .output()
        .map_err(|e| e.to_string())?;
    if o.status.success() {
        Ok(Mount(dir.to_path_buf()))
    } else {
        Err(String::from_utf8_lossy(&o.stderr).trim().to_string())
    }
}

fn statvfs_used(path: &Path) -> u64 {
    let s = nix::sys::statvfs::statvfs(path).unwrap();
    (s.blocks() - s.blocks_free()) as u64 * s.fragment_size() as u64
}

fn results(v: &Value) -> Vec<(String, String)> {
    v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["path"].as_str().unwrap().to_string(),
                a["result"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn only_old_logs_rotated_logs_and_old_dumps_go() {
    let t = tree();
    let r = &t.root;
    file(&r.join("old.log"), 4096, 10);
    file(&r.join("mid.log"), 4096, 3);
    file(&r.join("new.log"), 4096, 0);
    file(&r.join("sub/app.log.1"), 4096, 0);
    file(&r.join("sub/app.log.2.gz"), 4096, 0);
    file(&r.join("sub/trace.zst"), 4096, 0);
    file(&r.join("core.4242"), 4096, 2);
    file(&r.join("fresh.dmp"), 4096, 0);
    file(&r.join("notes.txt"), 4096, 30);

    let (o, v) = cleanup_json(&t, &["--target", "0", "--older-than", "7d", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for gone in [
        "old.log",
        "sub/app.log.1",
        "sub/app.log.2.gz",
        "sub/trace.zst",
        "core.4242",
    ] {
        assert!(!r.join(gone).exists(), "{gone} should be deleted");
    }
    for kept in ["mid.log", "new.log", "fresh.dmp", "notes.txt"] {
        assert!(r.join(kept).exists(), "{kept} should stay");
    }
    assert_eq!(v["freed"]["deleted"], 5);
    assert!(v["freed"]["bytes"].as_u64().unwrap() >= 5 * 4096);
    // Oldest first.
    let order: Vec<String> = results(&v).into_iter().map(|(p, _)| p).collect();
    assert!(order[0].ends_with("old.log"), "{order:?}");
    assert!(order[1].ends_with("core.4242"), "{order:?}");

    let (o, _) = cleanup_json(&t, &["--target", "0", "--older-than", "2d", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!r.join("mid.log").exists());
    assert!(r.join("new.log").exists());
}

#[test]
fn a_symlink_to_a_file_or_dir_outside_the_root_is_not_followed() {
    let t = tree();
    let outside = t.base.join("outside");
    file(&outside.join("secret.log"), 4096, 30);
    file(&outside.join("deep/other.log"), 4096, 30);
    std::os::unix::fs::symlink(outside.join("secret.log"), t.root.join("link.log")).unwrap();
    std::os::unix::fs::symlink(outside.join("deep"), t.root.join("dirlink")).unwrap();
    file(&t.root.join("own.log"), 4096, 30);

    let (o, v) = cleanup_json(&t, &["--target", "0", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!t.root.join("own.log").exists());
    assert!(outside.join("secret.log").exists());
    assert!(outside.join("deep/other.log").exists());
    assert!(
        fs::symlink_metadata(t.root.join("link.log"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(results(&v).len(), 1, "{v:#}");
    let notes = v["notes"].to_string();
    assert!(notes.contains("2 symlinks not followed"), "{notes}");
}

#[test]
fn a_nested_mount_is_not_crossed() {
    let t = tree();
    file(&t.root.join("old.log"), 4096, 30);
    let mnt = t.root.join("mnt");
    let mount = tmpfs(&mnt, "4m");
    if let Err(why) = &mount {
        eprintln!("skipping the nested-mount assertion: mount failed: {why}");
    } else {
        file(&mnt.join("other-fs.log"), 4096, 30);
    }
    let (o, v) = cleanup_json(&t, &["--target", "0", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!t.root.join("old.log").exists());
    if mount.is_ok() {
        assert!(mnt.join("other-fs.log").exists(), "crossed into the mount");
        assert!(
            v["notes"].to_string().contains("another filesystem"),
            "{v:#}"
        );
    }
    drop(mount);
}

#[test]
fn a_file_held_open_is_never_deleted() {
    let t = tree();
    let busy = t.root.join("busy.log");
    file(&busy, 4096, 30);
    file(&t.root.join("idle.log"), 4096, 30);
    let holder = Holder::new(&busy);

    let (o, v) = cleanup_json(&t, &["--target", "0", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(busy.exists(), "a held-open file was deleted");
    assert!(!t.root.join("idle.log").exists());
    let kept = &v["kept"][0];
    assert_eq!(kept["path"], busy.to_str().unwrap());
    assert_eq!(kept["holders"][0]["pid"], holder.pid());
    assert!(
        kept["reason"]
            .as_str()
            .unwrap()
            .contains(&holder.pid().to_string())
    );
}

#[test]
fn a_deleted_but_open_file_under_the_root_is_truncated_and_frees_space() {
    let t = tree();
    // On a private tmpfs the filesystem's own numbers prove the bytes came back;
    // on a shared disk other writers make that noisy, so only the inode is checked.
    let mount = tmpfs(&t.root, "64m");
    if let Err(why) = &mount {
        eprintln!("no private tmpfs ({why}); checking the freed blocks of the inode only");
    }
    let path = t.root.join("rotated-away.log");
    file(&path, 8 << 20, 0);
    let holder = Holder::new(&path);
    fs::remove_file(&path).unwrap();
    assert!(holder.held().blocks() * 512 >= 8 << 20);
    let used_before = statvfs_used(&t.root);

    let o = disk(&t.state, &["usage", t.root.to_str().unwrap(), "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    let fs_rep = v["filesystems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["roots"].to_string().contains(t.root.to_str().unwrap()))
        .unwrap()
        .clone();
    assert_eq!(
        fs_rep["categories"][0]["category"], "deleted_open",
        "{fs_rep:#}"
    );

    let (o, v) = cleanup_json(&t, &["--target", "0", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let a = &v["actions"][0];
    assert_eq!(a["op"], "truncate");
    assert_eq!(a["result"], "truncated");
    assert_eq!(a["path"], path.to_str().unwrap());
    assert_eq!(a["holders"][0]["pid"], holder.pid());
    let after = holder.held();
    assert_eq!(after.len(), 0);
    assert_eq!(after.blocks(), 0);
    if mount.is_ok() {
        let used_after = statvfs_used(&t.root);
        assert!(
            used_before - used_after >= 8 << 20,
            "statvfs used {used_before} -> {used_after}"
        );
    }
    drop(holder);
    drop(mount);
}

#[test]
fn a_deleted_but_open_file_outside_the_roots_needs_force() {
    let t = tree();
    // --force reaches every deleted-but-open file on the cleaned filesystems, so
    // that part runs only on a private tmpfs, where every such file is ours —
    // and the state dir (on the shared disk) must not be a cleanup root here.
    fs::write(
        t.state.join("hal9.toml"),
        "[cleanup]\ninclude_state_dir = false\n",
    )
    .unwrap();
    let private = t.base.join("private");
    let mount = tmpfs(&private, "16m");
    if let Err(why) = &mount {
        eprintln!("no private tmpfs ({why}); skipping the --force half");
    }
    let (root, elsewhere) = if mount.is_ok() {
        (private.join("root"), private.join("elsewhere.bin"))
    } else {
        (t.root.clone(), t.base.join("elsewhere.bin"))
    };
    fs::create_dir_all(&root).unwrap();
    file(&elsewhere, 1 << 20, 0);
    let holder = Holder::new(&elsewhere);
    fs::remove_file(&elsewhere).unwrap();
    let r = root.to_str().unwrap();

    let o = disk(
        &t.state,
        &["cleanup", r, "--target", "0", "--yes", "-o", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(holder.held().len() > 0, "truncated without --force");
    let v = json(&o);
    let kept = v["kept"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["path"] == elsewhere.to_str().unwrap())
        .expect("reported as kept");
    assert!(kept["reason"].as_str().unwrap().contains("--force"));
    assert_eq!(kept["holders"][0]["pid"], holder.pid());

    if mount.is_ok() {
        let args = [
            "cleanup", r, "--target", "0", "--yes", "--force", "-o", "json",
        ];
        let o = disk(&t.state, &args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let v = json(&o);
        assert_eq!(
            results(&v),
            vec![(elsewhere.display().to_string(), "truncated".into())],
            "{v:#}"
        );
        assert_eq!(holder.held().len(), 0);
    }
    drop(holder);
    drop(mount);
}

#[test]
fn dry_run_deletes_nothing_and_shows_the_plan() {
    let t = tree();
    let old = t.root.join("old.log");
    file(&old, 4096, 30);
    let (o, v) = cleanup_json(&t, &["--target", "0", "--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(old.exists());
    assert_eq!(v["dry_run"], true);
    assert_eq!(
        results(&v),
        vec![(old.display().to_string(), "planned".into())]
    );
    assert!(!t.state.join("audit.jsonl").exists());
}

#[test]
fn without_a_terminal_or_yes_it_refuses_and_deletes_nothing() {
    let t = tree();
    let old = t.root.join("old.log");
    file(&old, 4096, 30);
    let (o, _) = cleanup_json(&t, &["--target", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(old.exists());
    let err = stderr(&o);
    assert!(err.contains("refused"), "{err}");
    assert!(err.contains("next: hal9ctl disk cleanup"), "{err}");
}

#[test]
fn bad_roots_are_usage_errors() {
    let t = tree();
    let missing = t.base.join("no-such-dir");
    let o = disk(&t.state, &["cleanup", missing.to_str().unwrap(), "--yes"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    assert!(stderr(&o).contains("no-such-dir"));

    let o = disk(&t.state, &["usage", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(64));

    let o = disk(&t.state, &["cleanup", "/", "--dry-run"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(stderr(&o).contains("system directory"), "{}", stderr(&o));
}

#[test]
fn usage_lists_categories_largest_first() {
    let t = tree();
    file(&t.root.join("a.log"), 300 << 10, 30);
    file(&t.root.join("core.77"), 200 << 10, 30);
    file(&t.root.join("a.log.1"), 100 << 10, 0);
    file(&t.root.join("young.log"), 900 << 10, 0);
    let o = disk(&t.state, &["usage", t.root.to_str().unwrap(), "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    let fs_rep = v["filesystems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["roots"].to_string().contains(t.root.to_str().unwrap()))
        .unwrap()
        .clone();
    let cats: Vec<&str> = fs_rep["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["category"].as_str().unwrap())
        .collect();
    assert_eq!(cats, vec!["logs", "crash", "rotated"]);
    let bytes: Vec<u64> = fs_rep["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bytes"].as_u64().unwrap())
        .collect();
    assert!(bytes.windows(2).all(|w| w[0] >= w[1]), "{bytes:?}");
    assert!(fs_rep["percent"].as_f64().unwrap() > 0.0);
    assert_eq!(
        fs_rep["reclaimable"].as_u64().unwrap(),
        bytes.iter().sum::<u64>()
    );
}

#[test]
fn target_dirs_only_when_asked() {
    let t = tree();
    let target = t.root.join("proj/target");
    file(&target.join("CACHEDIR.TAG"), 64, 0);
    file(&target.join("debug/app"), 8192, 0);
    let (o, _) = cleanup_json(&t, &["--target", "0", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(target.join("debug/app").exists());
    let (o, v) = cleanup_json(&t, &["--target", "0", "--yes", "--include-target-dirs"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!target.join("debug/app").exists());
    assert_eq!(v["freed"]["by_category"][0]["category"], "build_dir");
}

#[test]
fn the_audit_log_records_each_batch() {
    let t = tree();
    let old = t.root.join("old.log");
    file(&old, 4096, 30);
    let (o, _) = cleanup_json(&t, &["--target", "0", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let log = fs::read_to_string(t.state.join("audit.jsonl")).unwrap();
    let entry: Value = log
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["action"] == "disk-cleanup")
        .expect("a disk-cleanup entry");
    assert!(
        entry["target"]
            .as_str()
            .unwrap()
            .contains(old.to_str().unwrap())
    );
    assert!(
        entry["result"]
            .as_str()
            .unwrap()
            .starts_with("ok: deleted 1"),
        "{entry}"
    );
}

#[test]
fn stops_once_below_target_measured_on_a_real_small_filesystem() {
    let t = tree();
    let mnt = t.base.join("small");
    let mount = match tmpfs(&mnt, "10m") {
        Ok(m) => m,
        Err(why) => {
            eprintln!("skipping the target assertions: no private tmpfs: {why}");
            return;
        }
    };
    // 8 of 10 MiB used: three old logs and a file cleanup must not touch.
    file(&mnt.join("a.log"), 2 << 20, 30);
    file(&mnt.join("b.log"), 2 << 20, 20);
    file(&mnt.join("c.log"), 2 << 20, 10);
    file(&mnt.join("keep.dat"), 2 << 20, 30);
    let m = mnt.to_str().unwrap();

    let o = disk(
        &t.state,
        &["cleanup", m, "--target", "70", "--yes", "-o", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!mnt.join("a.log").exists(), "the oldest goes first");
    assert!(mnt.join("b.log").exists() && mnt.join("c.log").exists());
    let v = json(&o);
    let small = v["filesystems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["mount_point"] == m)
        .unwrap()
        .clone();
    assert!(small["percent_after"].as_f64().unwrap() < 70.0, "{small:#}");

    // Everything eligible is not enough to get below 10 %: partly done.
    let o = disk(&t.state, &["cleanup", m, "--target", "10", "--yes"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!mnt.join("b.log").exists() && !mnt.join("c.log").exists());
    assert!(mnt.join("keep.dat").exists());
    drop(mount);
}
