mod common;

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use procmon::{ErrorKind, Event, ExitStatus, Fsync, Journal, JournalOptions, JournalReader, ProcessEvent, ReadFrom};

struct TempDir(PathBuf);
impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("procmon-rs-{}-{}-{}", tag, std::process::id(),
            SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos()));
        TempDir(p)
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn event(i: u64) -> Event {
    let p = ProcessEvent {
        pid: 1000 + i as i32,
        ppid: 1,
        uid: if i % 2 == 0 { Some(1000) } else { None },
        seq: 0,
        time: UNIX_EPOCH + Duration::from_nanos(1_700_000_000_000_000_000 + i),
        start_ticks: i * 7,
        start_time: UNIX_EPOCH + Duration::from_nanos(1_700_000_000_000_000_000),
        name: format!("n{}", i).into(),
        full_name: format!("n{}", i).into(), // the reader derives it: name, not cut at 15 bytes
        exe: "/usr/bin/prog".into(),
        argv: format!("prog\0{}\0", i).into_bytes(),
        synthesized: false,
        partial: false,
        thread: false,
    };
    match i % 3 {
        0 => Event::Start(p),
        1 => Event::Exec(p),
        _ => Event::Exit { process: p, status: ExitStatus::Code(i as i32 % 256), lifetime: Duration::from_nanos(i) },
    }
}

#[test]
fn appended_events_come_back_with_journal_sequence_numbers() {
    let dir = TempDir::new("roundtrip");
    let j = Journal::open(&dir.0, None, &JournalOptions::new()).unwrap();
    let events: Vec<Event> = (1..=500).map(event).collect();
    j.append(&events).unwrap();
    assert_eq!(j.sync(None).unwrap(), 500);
    let st = j.stats().unwrap();
    assert_eq!((st.records, st.next_seq, st.lost, st.last_error), (500, 501, 0, None));
    j.close().unwrap();

    let back: Vec<Event> = JournalReader::open(&dir.0, ReadFrom::Start).unwrap().map(|e| e.unwrap()).collect();
    assert_eq!(back.len(), 500);
    for (i, (got, want)) in back.iter().zip(&events).enumerate() {
        let mut want = want.clone();
        match &mut want {
            Event::Start(p) | Event::Exec(p) => p.seq = i as u64 + 1,
            Event::Exit { process, .. } => process.seq = i as u64 + 1,
            _ => unreachable!(),
        }
        assert_eq!(got, &want);
    }
    let from = JournalReader::open(&dir.0, ReadFrom::Seq(450)).unwrap().count();
    assert_eq!(from, 51);
}

#[test]
fn a_second_writer_is_locked_out_and_a_foreign_file_is_format() {
    let dir = TempDir::new("locked");
    let j = Journal::open(&dir.0, None, &JournalOptions::new().fsync(Fsync::Never)).unwrap();
    let err = Journal::open(&dir.0, None, &JournalOptions::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Locked, "{}", err);
    drop(j);
    std::fs::write(dir.0.join("00000000000000000001.pmj"), b"not a journal at all, not at all").unwrap();
    let err = JournalReader::open(&dir.0, ReadFrom::Start).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Format, "{}", err);
}

#[test]
fn a_reader_follows_a_writer_and_lost_is_explicit() {
    let dir = TempDir::new("follow");
    let j = Journal::open(&dir.0, None, &JournalOptions::new().fsync(Fsync::Interval(Duration::from_millis(5)))).unwrap();
    let mut r = JournalReader::open(&dir.0, ReadFrom::Start).unwrap();
    assert!(r.next_timeout(Duration::from_millis(10)).unwrap().is_none());
    j.append(&[event(1), Event::Lost { count: 7 }, event(2)]).unwrap();
    let mut got = Vec::new();
    while got.len() < 3 {
        got.push(r.next_timeout(Duration::from_secs(5)).unwrap().expect("the writer's records"));
    }
    assert!(matches!(got[1], Event::Lost { count: 7 }));
    assert_eq!(r.stats().unwrap().records, 3);
    j.close().unwrap();
}

#[test]
fn what_is_named_like_a_segment_but_is_no_file_is_skipped_and_counted() {
    let dir = TempDir::new("skipped");
    let j = Journal::open(&dir.0, None, &JournalOptions::new()).unwrap();
    j.append(&[event(1)]).unwrap();
    j.close().unwrap();
    std::fs::create_dir(dir.0.join("00000000000000000500.pmj")).unwrap();
    std::os::unix::fs::symlink("/nonexistent", dir.0.join("00000000000000000600.pmj")).unwrap();
    let mut r = JournalReader::open(&dir.0, ReadFrom::Start).unwrap();
    assert!(r.next_timeout(Duration::from_millis(10)).unwrap().is_some());
    assert!(r.next_timeout(Duration::from_millis(10)).unwrap().is_none());
    assert_eq!(r.stats().unwrap().skipped_files, 2);
    let j = Journal::open(&dir.0, None, &JournalOptions::new()).unwrap();
    assert_eq!(j.stats().unwrap().skipped_files, 2);
    j.close().unwrap();
}
