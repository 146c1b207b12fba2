//! The committed bindings against the header and the C compiler.
//!
//! - `bindings_match_the_header`: generate.sh run now gives what is committed
//!   (an ABI change in include/procmon.h must come with regenerated bindings).
//! - `layout_matches_the_c_compiler`: every struct size and field offset that
//!   bindgen recorded (its own layout tests check them against Rust's layout)
//!   is what the C compiler (`$CC`, else `cc`) gives with sizeof/offsetof.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn here() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The text without layout: no whitespace, no trailing commas (bindgen's
/// output differs only so with and without rustfmt).
fn squeeze(s: &str) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    for (with, without) in [(",)", ")"), (",}", "}"), (",]", "]"), (",>", ">")] {
        out = out.replace(with, without);
    }
    out
}

#[test]
fn bindings_match_the_header() {
    let has_bindgen = Command::new("bindgen").arg("--version").output().map(|o| o.status.success()).unwrap_or(false);
    if !has_bindgen {
        assert!(
            std::env::var_os("PROCMON_REQUIRE_BINDGEN").is_none(),
            "bindgen is not installed (Debian: apt install bindgen) and PROCMON_REQUIRE_BINDGEN is set"
        );
        eprintln!("skipped: bindgen is not installed (Debian: apt install bindgen)");
        return;
    }
    let out = std::env::temp_dir().join(format!("procmon-bindings-{}.rs", std::process::id()));
    let status = Command::new(here().join("generate.sh")).arg(&out).status().expect("run generate.sh");
    assert!(status.success(), "generate.sh failed");
    let fresh = std::fs::read_to_string(&out).unwrap();
    std::fs::remove_file(&out).ok();
    let committed = std::fs::read_to_string(here().join("src/bindings.rs")).unwrap();
    // layout aside: bindgen formats with rustfmt only when one is installed
    assert!(
        squeeze(&fresh) == squeeze(&committed),
        "src/bindings.rs no longer matches include/procmon.h: run procmon-sys/generate.sh and commit the result"
    );
}

/// (struct, Some(field) or None for the size, value) as bindgen recorded them.
fn recorded_layout(bindings: &str) -> Vec<(String, Option<String>, usize)> {
    let text = squeeze(bindings);
    let mut out = Vec::new();
    let number = |s: &str| -> usize { s[..s.find("usize").unwrap()].parse().unwrap() };
    for chunk in text.split("::std::mem::size_of::<").skip(1) {
        let name = &chunk[..chunk.find('>').unwrap()];
        let rest = &chunk[chunk.find(">(),").unwrap() + 4..];
        out.push((name.to_string(), None, number(rest)));
    }
    for chunk in text.split("::std::mem::MaybeUninit::<").skip(1) {
        let name = &chunk[..chunk.find('>').unwrap()];
        let field_at = chunk.find("addr_of!((*ptr).").unwrap() + "addr_of!((*ptr).".len();
        let field = &chunk[field_at..field_at + chunk[field_at..].find(')').unwrap()];
        let rest = &chunk[chunk.find("ptrasusize},").unwrap() + "ptrasusize},".len()..];
        out.push((name.to_string(), Some(field.to_string()), number(rest)));
    }
    out
}

#[test]
fn layout_matches_the_c_compiler() {
    let bindings = std::fs::read_to_string(here().join("src/bindings.rs")).unwrap();
    let layout = recorded_layout(&bindings);
    let structs: std::collections::BTreeSet<_> = layout.iter().map(|(s, _, _)| s.clone()).collect();
    for expected in ["procmon_options", "procmon_query", "procmon_process", "procmon_event", "procmon_stats",
                     "procmon_subscribe_options", "procmon_subscription_stats", "procmon_error"] {
        assert!(structs.contains(expected), "no layout recorded for {}", expected);
    }
    let fields = layout.iter().filter(|(_, f, _)| f.is_some()).count();
    assert!(fields > 100, "only {} field offsets recorded", fields);

    let mut c = String::from("#include <stddef.h>\n#include <stdio.h>\n#include \"procmon.h\"\nint main(void) {\n");
    for (name, field, _) in &layout {
        let name = if name.starts_with("procmon_") { name.clone() } else { continue };
        match field {
            None => writeln!(c, "    printf(\"%zu\\n\", sizeof({}));", name).unwrap(),
            Some(f) => {
                // bindgen renames a field named as a Rust keyword: type -> type_
                let cf = if f == "type_" { "type" } else { f.as_str() };
                writeln!(c, "    printf(\"%zu\\n\", offsetof({}, {}));", name, cf).unwrap()
            }
        }
    }
    c += "    return 0;\n}\n";
    let dir = std::env::temp_dir().join(format!("procmon-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("layout.c");
    let exe = dir.join("layout");
    std::fs::write(&src, &c).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let include = here().join("../../../include");
    let status = Command::new(&cc).arg("-std=c89").arg("-I").arg(&include).arg(&src).arg("-o").arg(&exe)
        .status().unwrap_or_else(|e| panic!("run the C compiler {}: {}", cc, e));
    assert!(status.success(), "the C compiler failed on {}", src.display());
    let out = Command::new(&exe).output().unwrap();
    let printed: Vec<usize> = String::from_utf8(out.stdout).unwrap().lines().map(|l| l.parse().unwrap()).collect();
    let ours: Vec<_> = layout.iter().filter(|(n, _, _)| n.starts_with("procmon_")).collect();
    assert_eq!(printed.len(), ours.len());
    for ((name, field, rust), c) in ours.iter().zip(&printed) {
        assert_eq!(rust, c, "{}.{}: bindgen recorded {}, the C compiler says {}", name,
                   field.as_deref().unwrap_or("(size)"), rust, c);
    }
    std::fs::remove_dir_all(Path::new(&dir)).ok();
}
