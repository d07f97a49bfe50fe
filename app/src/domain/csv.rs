//! CSV: exports people open in spreadsheets, and files people upload (bank statements,
//! providers' settlement reports), read by their header.

use super::Minor;

/// A CSV field, quoted when it must be; a leading formula character is neutralised so a
/// spreadsheet never runs what a field says.
pub fn field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) && value.parse::<f64>().is_err() {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// One CSV line of fields, each quoted as [`field`] does, ending in a line break.
pub fn line<S: AsRef<str>>(fields: &[S]) -> String {
    let fields: Vec<String> = fields.iter().map(|f| field(f.as_ref())).collect();
    fields.join(",") + "\n"
}

/// An uploaded CSV file, read by its header: columns are found by name (any case, any
/// order, other columns ignored), so files exported by different tools all read.
pub struct Table<'a> {
    header: Vec<String>,
    lines: Vec<(usize, &'a str)>,
}

impl<'a> Table<'a> {
    /// Splits the file into its header and lines; `what` names the file in the errors.
    pub fn parse(text: &'a str, what: &str) -> Result<Self, String> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(index, line)| (index + 1, line));
        let (_, header) = lines.next().ok_or(format!("The {what} is empty."))?;
        let header = split(header)?
            .into_iter()
            .map(|name| name.trim().trim_start_matches('\u{feff}').to_lowercase())
            .collect();
        Ok(Table {
            header,
            lines: lines.collect(),
        })
    }

    /// The first of these columns the file has.
    pub fn optional_column(&self, names: &[&str]) -> Option<usize> {
        names
            .iter()
            .find_map(|name| self.header.iter().position(|h| h == name))
    }

    /// The first of these columns the file has, or an error naming the first.
    pub fn column(&self, names: &[&str]) -> Result<usize, String> {
        self.optional_column(names)
            .ok_or_else(|| format!("The file has no \"{}\" column.", names[0]))
    }

    /// The lines after the header; a line that cannot be split is an error naming it.
    pub fn rows(&self) -> impl Iterator<Item = Result<Row, String>> + '_ {
        self.lines.iter().map(|&(number, line)| {
            split(line)
                .map(|fields| Row { number, fields })
                .map_err(|error| format!("Line {number}: {error}"))
        })
    }
}

/// One line of an uploaded file, numbered as the file counts them.
pub struct Row {
    pub number: usize,
    fields: Vec<String>,
}

impl Row {
    /// A field, trimmed.
    pub fn get(&self, column: usize) -> Result<&str, String> {
        self.fields
            .get(column)
            .map(|field| field.trim())
            .ok_or_else(|| format!("Line {} has too few columns.", self.number))
    }

    /// An amount in the currency, negative for money going out; thousands separators are
    /// allowed, places beyond the currency's are not.
    pub fn amount(&self, column: usize, digits: u32) -> Result<Minor, String> {
        let raw = self.get(column)?;
        let value: rust_decimal::Decimal = raw
            .replace(',', "")
            .parse()
            .map_err(|_| format!("Line {}: {raw:?} is not an amount.", self.number))?;
        Minor::from_decimal(value, digits).ok_or_else(|| {
            format!(
                "Line {}: {raw} has more places than the currency.",
                self.number
            )
        })
    }
}

/// The fields of one CSV line (RFC 4180 quoting, no line breaks inside fields).
pub fn split(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (false, '"') if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (_, c) => field.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".into());
    }
    fields.push(field);
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(field("-12.50"), "-12.50");
    }

    #[test]
    fn uploaded_files_are_read_by_their_header() {
        let text = "\u{feff}Ref,\"Amount\"\n\nA-1,\"1,250.50\"\nA-2,-3\nA-3,1.005\nA-4\n";
        let table = Table::parse(text, "file").unwrap();
        assert_eq!(table.column(&["reference", "ref"]), Ok(0));
        assert_eq!(table.optional_column(&["fee"]), None);
        assert_eq!(
            table.column(&["date"]),
            Err("The file has no \"date\" column.".into())
        );
        let rows: Vec<Row> = table.rows().map(Result::unwrap).collect();
        assert_eq!(rows[0].number, 3, "blank lines still count");
        assert_eq!(rows[0].amount(1, 2), Ok(Minor(125_050)));
        assert_eq!(rows[1].amount(1, 2), Ok(Minor(-300)));
        assert!(rows[2].amount(1, 2).unwrap_err().contains("more places"));
        assert_eq!(rows[3].get(1), Err("Line 6 has too few columns.".into()));
        assert!(Table::parse(" \n", "statement").is_err());
        assert_eq!(
            split("a,\"b,\"\"c\"\"\",d"),
            Ok(vec!["a".into(), "b,\"c\"".into(), "d".into()])
        );
        assert!(split("\"open").is_err());
    }
}
