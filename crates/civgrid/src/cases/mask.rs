//! Masking of personal numbers in free text the public sees (a case's description, address and
//! closing note on the portal and in Open311): residents type their ID number or phone number
//! into the words of a report, and those words are published.
//!
//! A pure function, character for character: every digit of a number that looks like a
//! resident ID (15 or 18 characters), a mobile number (11 digits from 13–19, optionally with
//! +86), or a landline (7–8 digits, or 10–12 starting with the area code's 0) is replaced by
//! `*` except its first three and last two (first two and last one for a short landline), so
//! the reader still sees that a number was given. Separators inside a number (spaces, hyphens)
//! are kept; dates written with separators (2026-12-07) and case numbers (14 digits) are not
//! numbers of a person and stay.

/// Whether `c` is a digit as a number in text may be written (ASCII or full-width).
fn digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

fn separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '－' | '\u{3000}')
}

/// The digit's value as an ASCII digit (full-width digits folded).
fn ascii(c: char) -> char {
    if c.is_ascii_digit() {
        c
    } else {
        char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')).unwrap_or('0')
    }
}

/// Whether a number of these digits (separators removed) and groups (lengths of the digit runs
/// between separators) names a person: an ID, a mobile or a landline.
fn personal(digits: &str, groups: &[usize]) -> bool {
    let n = digits.len();
    let starts = |p: &str| digits.starts_with(p);
    let mobile = |d: &str| d.len() == 11 && d.starts_with('1') && matches!(d.as_bytes()[1], b'3'..=b'9');
    let date_like = groups.len() == 3 && groups[0] == 4 && groups[1] <= 2 && groups[2] <= 2;
    if date_like {
        return false;
    }
    match n {
        18 | 15 => true,
        11 if mobile(digits) => true,
        13 if starts("86") && mobile(&digits[2..]) => true,
        10..=12 if starts("0") => true,
        7 | 8 => true,
        _ => false,
    }
}

/// `text` with the personal numbers in it masked (see the module's documentation).
pub fn mask_personal_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = chars.clone();
    let mut i = 0;
    while i < chars.len() {
        if !digit(chars[i]) {
            i += 1;
            continue;
        }
        // A number: digits, single separators between digits, and an ID's final X.
        let start = i;
        let mut end = i;
        let mut digits = String::new();
        let mut groups = vec![0usize];
        loop {
            if end < chars.len() && digit(chars[end]) {
                digits.push(ascii(chars[end]));
                *groups.last_mut().unwrap_or(&mut 0) += 1;
                end += 1;
            } else if end + 1 < chars.len() && separator(chars[end]) && digit(chars[end + 1]) {
                groups.push(0);
                end += 1;
            } else if end < chars.len() && matches!(chars[end], 'X' | 'x' | 'Ｘ') && digits.len() == 17 {
                digits.push('X');
                *groups.last_mut().unwrap_or(&mut 0) += 1;
                end += 1;
                break;
            } else {
                break;
            }
        }
        if personal(&digits, &groups) {
            let n = digits.len();
            let (head, tail) = if n >= 10 { (3, 2) } else { (2, 1) };
            let mut k = 0;
            for c in out.iter_mut().take(end).skip(start) {
                if digit(*c) || matches!(*c, 'X' | 'x' | 'Ｘ') {
                    if k >= head && k + tail < n {
                        *c = '*';
                    }
                    k += 1;
                }
            }
        }
        i = end.max(start + 1);
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::mask_personal_numbers as mask;
    use proptest::prelude::*;

    #[test]
    fn masks_ids_mobiles_and_landlines() {
        assert_eq!(mask("身份证440604199001011234，请联系"), "身份证440*************34，请联系");
        assert_eq!(mask("证号44060419900101123X"), "证号440*************3X");
        assert_eq!(mask("电话13800138000"), "电话138******00");
        assert_eq!(mask("电话 138 0013 8000 找王"), "电话 138 **** **00 找王");
        assert_eq!(mask("+86 13800138000"), "+86 1********00");
        assert_eq!(mask("座机0757-83331234"), "座机075*-******34");
        assert_eq!(mask("打83331234"), "打83*****4");
        assert_eq!(mask("电话１３８００１３８０００"), "电话１３８******００");
    }

    #[test]
    fn leaves_dates_case_numbers_and_short_numbers() {
        for s in ["2026-12-07 下午", "案卷 20261207000123", "祖庙路 12 号 3 楼", "井盖 2 个，坑深 30cm", ""]
        {
            assert_eq!(mask(s), s);
        }
    }

    proptest! {
        /// Whatever surrounds it, a mobile number never survives whole, and nothing else moves.
        #[test]
        fn a_mobile_never_survives(before in "[\\p{Han}a-z ，。]{0,20}", after in "[\\p{Han}a-z，。]{0,20}",
                                    second in 3u8..=9, rest in "[0-9]{9}") {
            let number = format!("1{second}{rest}");
            let text = format!("{before}{number}{after}");
            let masked = mask(&text);
            prop_assert!(!masked.contains(&number), "{masked}");
            prop_assert_eq!(masked.chars().count(), text.chars().count());
            prop_assert!(masked.starts_with(&before));
            prop_assert!(masked.ends_with(&after));
        }

        /// An 18-character ID number never survives whole.
        #[test]
        fn an_id_never_survives(before in "[\\p{Han} ]{0,10}", body in "[0-9]{17}", check in "[0-9X]") {
            let id = format!("{body}{check}");
            let masked = mask(&format!("{before}{id}"));
            prop_assert!(!masked.contains(&id), "{masked}");
        }

        /// Text without digits is left as it is, and masking twice is masking once.
        #[test]
        fn idempotent_and_digit_free_text_unchanged(text in "\\PC{0,60}") {
            let once = mask(&text);
            prop_assert_eq!(mask(&once), once.clone());
            if !text.chars().any(|c| c.is_ascii_digit() || ('０'..='９').contains(&c)) {
                prop_assert_eq!(once, text);
            }
        }
    }
}
