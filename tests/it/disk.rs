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

/// A process whose memory maps this test cannot read (another user's, or
/// one with capabilities we lack, like some sandboxes' pid 1), if any.
fn unseen_process() -> Option<u32> {
    fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        match fs::read(format!("/proc/{pid}/maps")) {
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Some(pid),
            _ => None,
        }
    })
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
    assert!(v["freed"]["planned_bytes"].as_u64().unwrap() >= 5 * 4096);
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
        assert!(v["notes"].to_string().contains("another mount"), "{v:#}");
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
    // --target 0 asks for every matching file; one left in place is partly done.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
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
    // The --force run below must reach only the private tmpfs: the state dir
    // (on the shared disk) is not a root here.
    fs::write(
        t.state.join("hal9.toml"),
        "[cleanup]\ninclude_state_dir = false\n",
    )
    .unwrap();
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
    let unseen = unseen_process();
    if unseen.is_none() {
        assert_eq!(
            fs_rep["categories"][0]["category"], "deleted_open",
            "{fs_rep:#}"
        );
    } else {
        assert_eq!(
            fs_rep["kept"][0]["path"],
            path.to_str().unwrap(),
            "{fs_rep:#}"
        );
    }

    let mut args = vec!["--target", "0", "--yes"];
    if let Some(pid) = unseen {
        // A process whose maps cannot be read might map the file: without
        // --force it stays, and says why.
        let (o, v) = cleanup_json(&t, &args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(v["actions"].as_array().unwrap().is_empty(), "{v:#}");
        let why = v["kept"][0]["reason"].as_str().unwrap_or_default();
        assert!(
            why.contains("could not be read") && why.contains("--force"),
            "{v:#}"
        );
        assert!(holder.held().len() > 0);
        if mount.is_err() {
            eprintln!("pid {pid} is unseen and there is no private tmpfs for --force; done");
            return;
        }
        // On our private tmpfs every deleted-but-open file is this test's.
        args.push("--force");
    }
    let (o, v) = cleanup_json(&t, &args);
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
        // Look before touching anything: the plan must hold our file and nothing else.
        let o = disk(&t.state, &[&args[..], &["--dry-run"]].concat());
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let plan = json(&o);
        let cleaned = plan["filesystems"].as_array().unwrap();
        assert_eq!(cleaned.len(), 1, "only the private tmpfs: {plan:#}");
        assert_eq!(cleaned[0]["mount_point"], private.to_str().unwrap());
        let mine = vec![(elsewhere.display().to_string(), "planned".to_string())];
        assert_eq!(results(&plan), mine, "{plan:#}");

        let o = disk(&t.state, &args);
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stderr(&o), stdout(&o));
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
    assert!(!target.exists(), "the emptied target/ tree is removed");
    assert!(
        t.root.join("proj").is_dir(),
        "but not the project around it"
    );
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
    // Only the private tmpfs is a root: the state dir sits on the shared disk,
    // whose use (and so this test's verdict) depends on the machine.
    fs::write(
        t.state.join("hal9.toml"),
        "[cleanup]\ninclude_state_dir = false\n",
    )
    .unwrap();
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

/// `hal9ctl disk ARGS` run inside a fresh user and mount namespace
/// (`unshare -Urm`) after `setup` (a shell snippet) ran there: mounts made by
/// `setup` exist only for this one run, and the namespace cannot read the
/// open files of processes outside it.
fn disk_in_namespace(state: &Path, setup: &str, args: &[&str]) -> Output {
    let env = hal9ctl(state);
    let mut c = Command::new("unshare");
    c.env_clear();
    for (k, v) in env.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    c.current_dir(state)
        .args(["-Urm", "sh", "-ec"])
        .arg(format!("{setup}\nexec \"$0\" disk \"$@\""))
        .arg(BIN)
        .args(args)
        .stdin(Stdio::null());
    run(&mut c)
}

#[test]
fn a_bind_mount_of_the_same_filesystem_is_not_followed() {
    let t = tree();
    let outside = t.base.join("outside");
    file(&outside.join("victim.log"), 4096, 30);
    file(&outside.join("deep/victim2.log"), 4096, 30);
    file(&t.root.join("own.log"), 4096, 30);
    let bound = t.root.join("bound");
    fs::create_dir_all(&bound).unwrap();
    // A bound *file* too: same st_dev and inode as the original outside.
    file(&outside.join("single.log"), 4096, 30);
    file(&t.root.join("single.log"), 0, 30);
    let setup = format!(
        "mount --bind '{}' '{}'\nmount --bind '{}' '{}'",
        outside.display(),
        bound.display(),
        outside.join("single.log").display(),
        t.root.join("single.log").display(),
    );
    let r = t.root.to_str().unwrap();
    let o = disk_in_namespace(
        &t.state,
        &setup,
        &["cleanup", r, "--target", "0", "--yes", "-o", "json"],
    );
    assert!(
        outside.join("victim.log").exists() && outside.join("deep/victim2.log").exists(),
        "deleted through a bind mount, outside the root: {}",
        stderr(&o)
    );
    assert!(outside.join("single.log").exists());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!t.root.join("own.log").exists(), "the root's own log goes");
    let v = json(&o);
    let deleted: Vec<String> = results(&v).into_iter().map(|(p, _)| p).collect();
    assert_eq!(deleted, vec![t.root.join("own.log").display().to_string()]);
    let notes = v["notes"].to_string();
    assert!(
        notes.contains(&format!("{} is another mount", bound.display())),
        "{notes}"
    );
}

#[test]
fn a_root_below_a_system_directory_needs_the_config_to_name_it() {
    let t = tree();
    for p in ["/usr/share", "/etc/ssl", "/var/lib", "/boot/grub"] {
        if !Path::new(p).is_dir() {
            continue;
        }
        let o = disk(&t.state, &["cleanup", p, "--target", "0", "--dry-run"]);
        assert_eq!(o.status.code(), Some(64), "{p}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("system directory"), "{p}: {err}");
        assert!(err.contains("cleanup.roots"), "{p}: {err}");
        let o = disk(&t.state, &["usage", p]);
        assert_eq!(o.status.code(), Some(64), "{p}: {}", stderr(&o));
    }
    // A symlink into a system directory is judged by where it leads.
    let link = t.base.join("share");
    std::os::unix::fs::symlink("/usr/share", &link).unwrap();
    let o = disk(&t.state, &["usage", link.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(64), "{}", stderr(&o));
    // Named in the config, such a directory is a root (looked at, not cleaned here).
    let small = "/usr/share/base-files";
    if Path::new(small).is_dir() {
        let o = disk(&t.state, &["usage", small]);
        assert_eq!(o.status.code(), Some(64), "{}", stderr(&o));
        fs::write(
            t.state.join("hal9.toml"),
            format!("[cleanup]\ninclude_state_dir = false\nroots = [\"{small}\"]\n"),
        )
        .unwrap();
        let o = disk(&t.state, &["usage", small, "-o", "json"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
}

/// A python child that maps `path` (shared, read) and keeps reading both ends
/// of the mapping: truncating the file under it kills it with SIGBUS.
/// `close_fd` drops the descriptor after mapping, leaving only the mapping.
struct MapReader(Child);

impl MapReader {
    fn new(path: &Path, close_fd: bool) -> MapReader {
        // mmap(2) through ctypes: Python's own mmap keeps a dup of the fd,
        // and this must be able to leave nothing but the mapping.
        let script = r#"
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
size = os.path.getsize(sys.argv[1])
fd = os.open(sys.argv[1], os.O_RDONLY)
addr = libc.mmap(None, size, 1, 1, fd, 0)  # PROT_READ, MAP_SHARED
assert addr not in (None, ctypes.c_void_p(-1).value), ctypes.get_errno()
if sys.argv[2] == "1":
    os.close(fd)
print("mapped", flush=True)
while True:
    ctypes.string_at(addr, 1); ctypes.string_at(addr + size - 1, 1)
    time.sleep(0.01)
"#;
        let mut child = Command::new("python3")
            .args(["-c", script])
            .arg(path)
            .arg(if close_fd { "1" } else { "0" })
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        assert_eq!(line.trim(), "mapped");
        MapReader(child)
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    /// `None` while it runs; how it ended otherwise.
    fn ended(&mut self) -> Option<std::process::ExitStatus> {
        std::thread::sleep(Duration::from_millis(300));
        self.0.try_wait().unwrap()
    }
}

impl Drop for MapReader {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_mapped_file_is_not_truncated_under_its_reader() {
    let t = tree();
    let mount = tmpfs(&t.root, "32m");
    if let Err(why) = &mount {
        eprintln!("no private tmpfs ({why}); running on the shared disk");
    }
    // Deleted, still open and mapped: truncating it through the fd is SIGBUS.
    let deleted = t.root.join("mapped-deleted.log");
    file(&deleted, 1 << 20, 30);
    let mut reader = MapReader::new(&deleted, false);
    fs::remove_file(&deleted).unwrap();
    // Mapped with the fd closed: no /proc/PID/fd entry, still in use.
    let mapped = t.root.join("mapped-only.log");
    file(&mapped, 1 << 20, 30);
    let mut mapped_reader = MapReader::new(&mapped, true);
    file(&t.root.join("plain.log"), 4096, 30);

    let (o, v) = cleanup_json(&t, &["--target", "0", "--yes"]);
    assert_eq!(
        reader.ended(),
        None,
        "the reader of a truncated mapping died: {}",
        stderr(&o)
    );
    assert_eq!(mapped_reader.ended(), None);
    assert!(mapped.exists(), "a mapped file was unlinked");
    assert!(!t.root.join("plain.log").exists());
    // Two files --target 0 asked for stay: partly done, never a plain success.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let held = fs::metadata(format!("/proc/{}/fd/3", reader.pid()));
    if let Ok(m) = held {
        assert_eq!(m.len(), 1 << 20, "the mapped file kept its size");
    }
    let kept = v["kept"].as_array().unwrap();
    let why = |p: &Path| {
        kept.iter()
            .find(|k| k["path"] == p.to_str().unwrap())
            .map(|k| k["reason"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{} not reported as kept: {v:#}", p.display()))
    };
    let r = why(&deleted);
    assert!(
        r.contains("SIGBUS") && r.contains(&reader.pid().to_string()),
        "{r}"
    );
    let r = why(&mapped);
    assert!(
        r.contains(&format!(
            "mapped into memory by pid {}",
            mapped_reader.pid()
        )),
        "{r}"
    );
    drop(reader);
    drop(mapped_reader);
    drop(mount);
}

#[test]
fn a_file_held_by_an_unseen_process_is_not_deleted_and_freed_space_is_measured() {
    let t = tree();
    fs::write(
        t.state.join("hal9.toml"),
        "[cleanup]\ninclude_state_dir = false\n",
    )
    .unwrap();
    // Measured on a private tmpfs: only this test writes there.
    let mount = match tmpfs(&t.root, "64m") {
        Ok(m) => m,
        Err(why) => {
            eprintln!("skipping: no private tmpfs: {why}");
            return;
        }
    };
    let log = t.root.join("app.log");
    file(&log, 8 << 20, 30);
    let log_holder = Holder::new(&log);
    let rotated = t.root.join("app.log.1");
    file(&rotated, 8 << 20, 30);
    let rotated_holder = Holder::new(&rotated);
    let idle = t.root.join("idle.log.2");
    file(&idle, 4 << 20, 30);

    // In its own user namespace hal9ctl is uid 0 but cannot read the fds of
    // the holders outside it: the shape of a non-root operator's blind spot.
    let r = t.root.to_str().unwrap();
    let o = disk_in_namespace(
        &t.state,
        "true",
        &["cleanup", r, "--target", "0", "--yes", "-o", "json"],
    );
    assert!(log.exists(), "a log held by an unseen process was deleted");
    assert!(
        rotated.exists(),
        "a rotated log held by an unseen process was deleted"
    );
    assert!(!idle.exists(), "the unheld one goes");
    let v = json(&o);
    let notes = v["notes"].to_string();
    assert!(notes.contains("could not be read"), "{notes}");
    for (path, result) in results(&v) {
        if path == idle.to_str().unwrap() {
            assert_eq!(result, "deleted");
        } else {
            assert_eq!(result, "skipped", "{path}: {v:#}");
        }
    }
    let skipped = v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["path"] == log.to_str().unwrap())
        .unwrap();
    assert!(
        skipped["reason"].as_str().unwrap().contains("lease"),
        "{skipped:#}"
    );

    // statvfs, not the plan, says what came back: the 4 MiB of idle.log.2.
    let fs_rep = &v["filesystems"][0];
    assert_eq!(fs_rep["mount_point"], r, "{v:#}");
    let measured = fs_rep["freed_measured"].as_i64().unwrap();
    assert!(
        (4 << 20..5 << 20).contains(&measured),
        "statvfs freed {measured}: {v:#}"
    );
    let before = fs_rep["used_before"].as_i64().unwrap();
    let after = fs_rep["used_after"].as_i64().unwrap();
    assert_eq!(before - after, measured);
    assert_eq!(v["freed"]["bytes"].as_i64(), Some(measured));
    assert_eq!(v["freed"]["planned_bytes"].as_u64(), Some(4 << 20), "{v:#}");
    assert_eq!(o.status.code(), Some(1), "partly done: {}", stderr(&o));
    drop(log_holder);
    drop(rotated_holder);
    drop(mount);
}

#[test]
fn a_bind_mount_of_a_system_directory_is_judged_by_what_it_shows() {
    let t = tree();
    let sys = "/usr/share/base-files";
    if !Path::new(sys).is_dir() {
        eprintln!("skipping: no {sys}");
        return;
    }
    let alias = t.base.join("looks-harmless");
    fs::create_dir_all(&alias).unwrap();
    let setup = format!("mount --bind '{sys}' '{}'", alias.display());
    let a = alias.to_str().unwrap();
    let o = disk_in_namespace(
        &t.state,
        &setup,
        &["cleanup", a, "--target", "0", "--dry-run"],
    );
    assert_eq!(o.status.code(), Some(64), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(sys) && err.contains("system directory"),
        "{err}"
    );
}

#[test]
fn a_deleted_file_opened_through_a_bind_mount_elsewhere_is_not_under_the_root() {
    let t = tree();
    fs::write(
        t.state.join("hal9.toml"),
        "[cleanup]\ninclude_state_dir = false\n",
    )
    .unwrap();
    // One private filesystem holds both the root and the directory outside it.
    let private = t.base.join("fs");
    let mount = match tmpfs(&private, "16m") {
        Ok(m) => m,
        Err(why) => {
            eprintln!("skipping: no private tmpfs: {why}");
            return;
        }
    };
    let root = private.join("root");
    let outside = private.join("outside");
    fs::create_dir_all(root.join("bound")).unwrap();
    file(&outside.join("x.bin"), 1 << 20, 30);
    // In its own mount namespace a process sees `outside` at root/bound and
    // opens the file there: the kernel then names it by a path under the root.
    let script = format!(
        "mount --bind '{}' '{}' && exec sleep 600 < '{}'",
        outside.display(),
        root.join("bound").display(),
        root.join("bound/x.bin").display()
    );
    let child = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .spawn()
        .unwrap();
    let holder = Holder(child);
    let link = format!("/proc/{}/fd/0", holder.pid());
    for _ in 0..200 {
        if fs::read_link(&link).is_ok_and(|l| l.to_string_lossy().ends_with("x.bin")) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    fs::remove_file(outside.join("x.bin")).unwrap();
    let seen = fs::read_link(&link).unwrap();
    assert!(
        seen.starts_with(&root),
        "the kernel's name: {}",
        seen.display()
    );

    let r = root.to_str().unwrap();
    let o = disk(
        &t.state,
        &["cleanup", r, "--target", "0", "--yes", "-o", "json"],
    );
    assert_eq!(holder.held().len(), 1 << 20, "truncated outside the root");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert!(v["actions"].as_array().unwrap().is_empty(), "{v:#}");
    let kept = v["kept"][0]["reason"].as_str().unwrap_or_default();
    assert!(kept.contains("outside the cleanup roots"), "{v:#}");
    drop(holder);
    drop(mount);
}
