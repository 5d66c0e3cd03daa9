use proptest::prelude::*;

use super::*;

fn read(name: &str, bytes: &[u8]) -> Result<Vec<Table>, Problem> {
    let mut left = MAX_ROWS;
    read_bytes(name, bytes, &mut left)
}

fn codes(problems: &[Problem]) -> Vec<(Option<usize>, &'static str)> {
    problems.iter().map(|p| (p.row, p.code)).collect()
}

#[test]
fn chinese_headers_utf8_with_bom_and_gbk_read_alike() {
    let text = "\u{feff}用户名,姓名（必填）,部门编码,角色,区域,网格,电话\n\
                wang.wei,王伟,,网格员,440604010001,44060401000101,13800000000\n\
                li.na,李娜,cgj,handler;派遣员,440604,,\n";
    let utf8 = read("a.csv", text.as_bytes()).expect("utf-8");
    let (gbk, _, _) = encoding_rs::GBK.encode(text.trim_start_matches('\u{feff}'));
    let gbk = read("a.csv", &gbk).expect("gbk");
    assert_eq!(utf8[0].rows, gbk[0].rows);
    assert!(gbk[0].note.as_deref().is_some_and(|n| n.contains("GBK")));
    let roster = parse(&utf8).expect("valid");
    assert_eq!(roster.staff.len(), 2);
    assert_eq!(roster.staff[0].roles, vec![Role::GridWorker]);
    assert_eq!(roster.staff[0].grids[0].code, "44060401000101");
    assert_eq!(roster.staff[1].roles, vec![Role::Handler, Role::Dispatcher]);
    assert!(roster.notes.iter().any(|n| n.contains("电话")), "{:?}", roster.notes);
}

#[test]
fn every_bad_row_is_reported_with_its_row_number() {
    let text = "username,display_name,department_code,roles,area_code\n\
                ok.user,好人,,dispatcher,440604\n\
                Bad User,x,,dispatcher,440604\n\
                sec,安全,,安全管理员,440604\n\
                who,谁,,wizard,440604\n\
                ok.user,重复,,dispatcher,440604\n\
                h.one,处置,,handler,440604\n\
                nowhere,无处,,dispatcher,\n";
    let problems = parse(&read("s.csv", text.as_bytes()).expect("read")).expect_err("refused");
    assert_eq!(
        codes(&problems),
        vec![
            (Some(3), "invalid_username"),
            (Some(4), "administrative_role"),
            (Some(5), "unknown_role"),
            (Some(7), "department_required"),
            (Some(8), "area_required"),
            (Some(6), "duplicate_in_roster"),
        ]
    );
    assert_eq!(problems[2].to_string().split(':').next(), Some("row 5 (s.csv)"));
}

#[test]
fn files_that_are_no_roster_are_refused_by_name() {
    assert_eq!(read("e.csv", b"").expect_err("empty").code, "empty_file");
    assert_eq!(read("e.csv", b" \n\r\n").expect_err("blank").code, "empty_file");
    assert_eq!(read("b.csv", &[0x89, b'P', b'N', b'G', 0, 0, 1]).expect_err("binary").code, "not_text");
    assert_eq!(read("x.csv", &[b'a', 0xFF, 0xFF, b'\n']).expect_err("bad bytes").code, "unsupported_encoding");
    assert_eq!(read("u.csv", &[0xFF, 0xFE, b'a', 0]).expect_err("utf-16").code, "unsupported_encoding");
    assert_eq!(read("c.xlsx", b"PK\x03\x04garbage").expect_err("corrupt").code, "corrupt_xlsx");
    assert_eq!(read("o.xls", &[0xD0, 0xCF, 0x11, 0xE0, 1, 2]).expect_err("xls").code, "unsupported_format");
    let tables = read("h.csv", "电话,地址\n1,2\n".as_bytes()).expect("read");
    assert_eq!(codes(&parse(&tables).expect_err("headers")), vec![(Some(1), "wrong_headers")]);
    let tables = read("h.csv", "部门编码,部门名称\ncgj,城管\n".as_bytes()).expect("read");
    let p = parse(&tables).expect_err("missing area");
    assert!(p[0].message.contains("所属区域"), "{p:?}");
}

#[test]
fn a_roster_past_the_row_cap_is_refused_without_reading_on() {
    let mut text = String::from("username,display_name,area\n");
    for i in 0..(MAX_ROWS + 5) {
        text.push_str(&format!("user{i},用户{i},440604\n"));
    }
    let p = read("big.csv", text.as_bytes()).expect_err("too many");
    assert_eq!(p.code, "too_many_rows");
}

#[test]
fn roles_are_named_or_titled() {
    assert_eq!(parse_role("网格员"), Some(Role::GridWorker));
    assert_eq!(parse_role("Grid-Worker"), Some(Role::GridWorker));
    assert_eq!(parse_role("公安/运管审核员"), Some(Role::SafetyOfficer));
    assert_eq!(parse_role("citizen"), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Whatever the bytes, reading and parsing answer (a roster or problems) and never panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(tables) = read("p.csv", &bytes) {
            let _ = parse(&tables);
        }
    }

    /// Arbitrary cells under real headers: every row is either imported or reported.
    #[test]
    fn arbitrary_cells_never_panic(rows in proptest::collection::vec(proptest::collection::vec(".{0,12}", 0..9), 0..12)) {
        let staff = Table {
            label: "人员".into(),
            headers: STAFF_COLUMNS.iter().map(|c| c.1[0].to_owned()).collect(),
            rows: rows.iter().cloned().enumerate().map(|(i, r)| (i + 2, r)).collect(),
            note: None,
        };
        let departments = Table {
            label: "部门".into(),
            headers: DEPARTMENT_COLUMNS.iter().map(|c| c.1[0].to_owned()).collect(),
            rows: rows.into_iter().enumerate().map(|(i, r)| (i + 2, r)).collect(),
            note: None,
        };
        let n = staff.rows.len() + departments.rows.len();
        match parse(&[staff, departments]) {
            Ok(r) => prop_assert_eq!(r.staff.len() + r.departments.len(), n),
            Err(p) => prop_assert!(p.iter().all(|p| p.row.is_some())),
        }
    }
}
