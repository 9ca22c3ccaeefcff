//! Personal identifiers: validating ID-card numbers (GB 11643, with its check digit) and mobile
//! numbers, and masking them for display (`640202********1234`, `138****5678`).

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PiiError {
    #[error("身份证号应为18位（前17位数字，末位数字或X）")]
    IdShape,
    #[error("身份证号的出生日期无效")]
    IdBirthDate,
    #[error("身份证号校验码不正确")]
    IdCheckDigit,
    #[error("手机号应为以1开头的11位数字，第二位为3–9")]
    Mobile,
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

/// The GB 11643 check character for the first 17 digits.
pub fn id_check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| (b - b'0') as u32 * w)
        .sum();
    Some(CHECK[(sum % 11) as usize] as char)
}

/// Normalises (upper-case X) and validates an ID-card number.
pub fn validate_id_number(s: &str) -> Result<String, PiiError> {
    let s = s.trim().to_ascii_uppercase();
    if s.len() != 18
        || !s[..17].bytes().all(|b| b.is_ascii_digit())
        || !matches!(s.as_bytes()[17], b'0'..=b'9' | b'X')
    {
        return Err(PiiError::IdShape);
    }
    let year: u32 = s[6..10].parse().map_err(|_| PiiError::IdShape)?;
    let month: u32 = s[10..12].parse().map_err(|_| PiiError::IdShape)?;
    let day: u32 = s[12..14].parse().map_err(|_| PiiError::IdShape)?;
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    };
    if !(1900..=2100).contains(&year) || day == 0 || day > days {
        return Err(PiiError::IdBirthDate);
    }
    if id_check_char(&s[..17]) != Some(s.as_bytes()[17] as char) {
        return Err(PiiError::IdCheckDigit);
    }
    Ok(s)
}

pub fn validate_mobile(s: &str) -> Result<String, PiiError> {
    let s: String = s
        .trim()
        .chars()
        .filter(|c| *c != ' ' && *c != '-')
        .collect();
    let s = s.strip_prefix("+86").unwrap_or(&s).to_string();
    let b = s.as_bytes();
    if b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && b.iter().all(u8::is_ascii_digit)
    {
        Ok(s)
    } else {
        Err(PiiError::Mobile)
    }
}

/// First 6 and last 4 characters, the rest starred.
pub fn mask_id_number(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    if c.len() < 10 {
        return "*".repeat(c.len());
    }
    format!(
        "{}{}{}",
        c[..6].iter().collect::<String>(),
        "*".repeat(c.len() - 10),
        c[c.len() - 4..].iter().collect::<String>()
    )
}

/// First 3 and last 4 digits, four stars between.
pub fn mask_phone(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    if c.len() < 7 {
        return "*".repeat(c.len());
    }
    format!(
        "{}****{}",
        c[..3].iter().collect::<String>(),
        c[c.len() - 4..].iter().collect::<String>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers() {
        // The standard's own example: 11010519491231002X.
        assert_eq!(
            validate_id_number("11010519491231002x").unwrap(),
            "11010519491231002X"
        );
        assert_eq!(
            validate_id_number("110105194912310021"),
            Err(PiiError::IdCheckDigit)
        );
        assert_eq!(
            validate_id_number("11010519491331002X"),
            Err(PiiError::IdBirthDate)
        );
        assert_eq!(
            validate_id_number("110105190002290020").unwrap_err(),
            PiiError::IdBirthDate,
            "1900 was not a leap year"
        );
        assert_eq!(
            validate_id_number("1101051949123100"),
            Err(PiiError::IdShape)
        );
        assert_eq!(
            validate_id_number("11010519491231002Y"),
            Err(PiiError::IdShape)
        );
        let first17 = "64020219900101123";
        let full = format!("{first17}{}", id_check_char(first17).unwrap());
        assert!(validate_id_number(&full).is_ok());
    }

    #[test]
    fn mobiles_and_masks() {
        assert_eq!(validate_mobile("138 1234 5678").unwrap(), "13812345678");
        assert_eq!(validate_mobile("+8613812345678").unwrap(), "13812345678");
        assert!(validate_mobile("12812345678").is_err());
        assert!(validate_mobile("1381234567").is_err());
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_id_number("640202199001011234"), "640202********1234");
    }
}
