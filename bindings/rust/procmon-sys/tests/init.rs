//! The `*_init` helpers give what the library's `procmon_*_init` gives for
//! this header's versions: the `PROCMON_*_INIT` macros' defaults.
use procmon_sys::*;

#[test]
fn helpers_give_the_librarys_defaults_for_the_headers_versions() {
    let q = query_init().unwrap();
    assert_eq!((q.version, q.fields, q.uid, q.pid_count, q.flags), (PROCMON_QUERY_VERSION, 0, -1, 0, 0));
    assert!(q.name_glob.is_null() && q.pids.is_null() && q.cmdline_glob.is_null());

    let s = subscribe_options_init().unwrap();
    assert_eq!((s.version, s.events, s.uid, s.descendants_of, s.queue_capacity, s.flags), (PROCMON_SUBSCRIBE_VERSION, 0, -1, 0, 0, 0));
    assert!(s.name_glob.is_null() && s.cmdline_glob.is_null());

    let o = options_init().unwrap();
    assert_eq!((o.version, o.arena_cap_bytes, o.cache_policy), (PROCMON_OPTIONS_VERSION, 0, PROCMON_CACHE_STATIC));
    assert!(o.proc_root.is_null());

    let j = journal_options_init().unwrap();
    assert_eq!((j.version, j.fsync, j.segment_bytes), (PROCMON_JOURNAL_VERSION, PROCMON_FSYNC_ALWAYS, 0));
    assert!(j.filter.is_null());
}

#[test]
fn a_version_the_library_does_not_know_is_its_error() {
    let mut q = std::mem::MaybeUninit::<procmon_query>::zeroed();
    // SAFETY: q has room for a procmon_query.
    let rc = unsafe { procmon_query_init(q.as_mut_ptr(), PROCMON_QUERY_VERSION + 1) };
    assert_eq!(rc, PROCMON_EVERSION);
}
