//! Reading a roster file into tables of text cells: a CSV file is one table, each sheet of an
//! XLSX workbook one more. CSV comes as UTF-8 (with or without the BOM Excel writes) or as GBK
//! (GB18030, what Excel in a Chinese locale saves as "CSV"); anything else is refused by name.
//! Sizes are bounded before anything is held: the file's bytes, the rows and the columns.

use std::io::Cursor;
use std::path::Path;

use calamine::{DataRef, Reader, Xlsx};

use super::Problem;

/// Largest roster file read (a district's staff list is well under a megabyte).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// Most data rows of one roster, all tables together: a district has a few thousand staff. A
/// larger file is refused when this is passed, without reading the rest.
pub const MAX_ROWS: usize = 20_000;
/// Most columns of a table (a roster has at most a dozen).
pub const MAX_COLUMNS: usize = 64;

/// A table of a roster: its label in reports (the sheet's name, or the CSV file's name), its
/// header row and its data rows, each with the row number a spreadsheet shows (1 = header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub label: String,
    pub headers: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
    /// How the file was decoded, when it was not UTF-8 (said in the report).
    pub note: Option<String>,
}

/// Reads one roster file. `rows_left` is how many data rows the roster may still hold.
pub fn read_file(path: &Path, rows_left: &mut usize) -> Result<Vec<Table>, Problem> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
    let file_problem = |code: &'static str, message: String| Problem::file(&name, code, message);
    let meta = std::fs::metadata(path).map_err(|e| file_problem("unreadable", format!("cannot read: {e}")))?;
    if !meta.is_file() {
        return Err(file_problem("unreadable", "not a file".into()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(file_problem(
            "file_too_large",
            format!("{} bytes; a roster file holds at most {MAX_FILE_BYTES} (split it)", meta.len()),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| file_problem("unreadable", format!("cannot read: {e}")))?;
    read_bytes(&name, &bytes, rows_left)
}

/// Reads a roster from its bytes (the kind is told by the content, not the file's name).
pub fn read_bytes(name: &str, bytes: &[u8], rows_left: &mut usize) -> Result<Vec<Table>, Problem> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Problem::file(name, "empty_file", "the file is empty: a roster has a header row and rows".into()));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return read_xlsx(name, bytes, rows_left);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(Problem::file(
            name,
            "unsupported_format",
            "an old Excel (.xls) workbook: save it as .xlsx (Excel 2007 and later) or as CSV".into(),
        ));
    }
    let (text, note) = decode_text(name, bytes)?;
    Ok(vec![read_csv(name, &text, note, rows_left)?])
}

/// The text of a CSV file: UTF-8 (BOM or not), else GBK/GB18030; binary or UTF-16 refused.
fn decode_text(name: &str, bytes: &[u8]) -> Result<(String, Option<String>), Problem> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(Problem::file(
            name,
            "unsupported_encoding",
            "UTF-16 text (Excel's \"Unicode text\"): save as \"CSV UTF-8\" or as .xlsx".into(),
        ));
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // Text has no NUL byte (and no other control besides tab and line ends) in any of the
    // encodings read here: such a file is an image, an archive, a database…
    if body.iter().any(|b| *b == 0 || (*b < 0x20 && !b"\t\r\n".contains(b))) {
        return Err(Problem::file(
            name,
            "not_text",
            "not a text file (control bytes found): give a CSV or an .xlsx workbook".into(),
        ));
    }
    if let Ok(text) = std::str::from_utf8(body) {
        return Ok((text.to_owned(), None));
    }
    match encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(body) {
        Some(text) => Ok((text.into_owned(), Some("read as GBK (GB18030): it is not UTF-8".into()))),
        None => Err(Problem::file(
            name,
            "unsupported_encoding",
            "neither UTF-8 nor GBK text: save the sheet as \"CSV UTF-8\" or as .xlsx".into(),
        )),
    }
}

/// Trims a cell; a row is kept only if some cell is not blank.
fn keep(cells: Vec<String>) -> Option<Vec<String>> {
    let cells: Vec<String> = cells.into_iter().map(|c| c.trim().to_owned()).collect();
    cells.iter().any(|c| !c.is_empty()).then_some(cells)
}

fn too_many_rows(label: &str) -> Problem {
    Problem::file(
        label,
        "too_many_rows",
        format!("the roster has more than {MAX_ROWS} rows: import it in parts (nothing was read beyond)"),
    )
}

fn too_many_columns(label: &str, row: usize) -> Problem {
    Problem::row(label, row, "too_many_columns", format!("more than {MAX_COLUMNS} columns"))
}

fn read_csv(name: &str, text: &str, note: Option<String>, rows_left: &mut usize) -> Result<Table, Problem> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut headers: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 1;
        let record = record.map_err(|e| Problem::row(name, row, "bad_csv", format!("not readable as CSV: {e}")))?;
        if record.len() > MAX_COLUMNS {
            return Err(too_many_columns(name, row));
        }
        let Some(cells) = keep(record.iter().map(str::to_owned).collect()) else { continue };
        if headers.is_none() {
            headers = Some(cells);
            continue;
        }
        if *rows_left == 0 {
            return Err(too_many_rows(name));
        }
        *rows_left -= 1;
        rows.push((row, cells));
    }
    let headers = headers.ok_or_else(|| {
        Problem::file(name, "empty_file", "the file has no rows: a roster has a header row and rows".into())
    })?;
    Ok(Table { label: name.to_owned(), headers, rows, note })
}

/// A cell as text: codes typed into Excel are often stored as numbers (440604010 → 440604010,
/// not 440604010.0).
fn cell_text(v: &DataRef<'_>) -> String {
    match v {
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        DataRef::Float(f) => f.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => d.as_f64().to_string(),
        DataRef::Error(e) => format!("#{e:?}"),
        DataRef::Empty => String::new(),
    }
}

fn read_xlsx(name: &str, bytes: &[u8], rows_left: &mut usize) -> Result<Vec<Table>, Problem> {
    let corrupt = |e: calamine::XlsxError| {
        Problem::file(name, "corrupt_xlsx", format!("not a readable .xlsx workbook ({e}): save it again from Excel"))
    };
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(corrupt)?;
    let mut tables = Vec::new();
    for sheet in book.sheet_names() {
        let mut cells = book.worksheet_cells_reader(&sheet).map_err(corrupt)?;
        // Cells come row by row; a row is complete when the next one starts.
        let mut current: Option<(u32, Vec<String>)> = None;
        let mut rows: Vec<(usize, Vec<String>)> = Vec::new();
        let mut finish = |r: Option<(u32, Vec<String>)>, rows: &mut Vec<(usize, Vec<String>)>| -> Result<(), Problem> {
            if let Some((at, cells)) = r {
                if let Some(cells) = keep(cells) {
                    // The first kept row is the header; every later one counts.
                    if !rows.is_empty() {
                        if *rows_left == 0 {
                            return Err(too_many_rows(&sheet));
                        }
                        *rows_left -= 1;
                    }
                    rows.push((at as usize + 1, cells));
                }
            }
            Ok(())
        };
        while let Some(cell) = cells.next_cell().map_err(corrupt)? {
            let (r, c) = cell.get_position();
            if c as usize >= MAX_COLUMNS {
                return Err(too_many_columns(&sheet, r as usize + 1));
            }
            if current.as_ref().is_some_and(|(at, _)| *at != r) {
                finish(current.take(), &mut rows)?;
            }
            let (_, row) = current.get_or_insert_with(|| (r, Vec::new()));
            if row.len() <= c as usize {
                row.resize(c as usize + 1, String::new());
            }
            row[c as usize] = cell_text(cell.get_value());
        }
        finish(current.take(), &mut rows)?;
        let mut rows = rows.into_iter();
        // A sheet with nothing in it (Excel's default Sheet2) is no table.
        if let Some((_, headers)) = rows.next() {
            tables.push(Table { label: sheet.clone(), headers, rows: rows.collect(), note: None });
        }
    }
    if tables.is_empty() {
        return Err(Problem::file(name, "empty_file", "every sheet of the workbook is empty".into()));
    }
    Ok(tables)
}
