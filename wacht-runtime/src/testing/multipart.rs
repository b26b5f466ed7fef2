//! A `multipart/form-data` parser (RFC 7578) for the backend API's create and update bodies.
//!
//! The whole body is in memory already (capped by the caller), so this is a plain parser over
//! a byte slice, with limits on the part count and on each part's headers. Nothing here
//! panics on input: every malformed body is a [`MultipartError`].

/// Most parts a form may have.
const MAX_PARTS: usize = 64;
/// Most bytes of one part's header block.
const MAX_HEADER_BYTES: usize = 8 * 1024;
/// Longest boundary RFC 2046 allows.
const MAX_BOUNDARY: usize = 70;

/// Why a body is not a usable `multipart/form-data` form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum MultipartError {
    /// The `Content-Type` is not `multipart/form-data`.
    #[error("expected a multipart/form-data body")]
    NotMultipart,
    /// No usable `boundary` parameter.
    #[error("the multipart/form-data content type has no valid boundary")]
    Boundary,
    /// The body does not start with a delimiter line.
    #[error("the multipart body has no opening delimiter")]
    NoOpening,
    /// A part runs to the end of the body.
    #[error("the multipart body has no closing delimiter")]
    NoClosing,
    /// A delimiter is followed by something other than a line end or `--`.
    #[error("malformed multipart delimiter")]
    Delimiter,
    /// A part's header block is unterminated or longer than 8 KiB.
    #[error("malformed or oversized multipart part headers")]
    Headers,
    /// A part has no `Content-Disposition: form-data; name="…"`.
    #[error("a multipart part has no form-data name")]
    NoName,
    /// More than 64 parts.
    #[error("too many multipart parts")]
    TooManyParts,
    /// A text field is not UTF-8.
    #[error("the multipart field `{0}` is not UTF-8 text")]
    NotText(String),
}

/// One part of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Part {
    /// The `name` of its `Content-Disposition`.
    pub(super) name: String,
    /// The `filename`, for file parts.
    pub(super) filename: Option<String>,
    /// Its `Content-Type`, if given.
    pub(super) content_type: Option<String>,
    /// Its content.
    pub(super) data: Vec<u8>,
}

/// A parsed form: its parts in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Form {
    pub(super) parts: Vec<Part>,
}

impl Form {
    /// Parses `body` as the `multipart/form-data` its `content_type` header value announces.
    pub(super) fn parse(content_type: &str, body: &[u8]) -> Result<Self, MultipartError> {
        let boundary = boundary(content_type)?;
        let delimiter = [b"--", boundary.as_bytes()].concat();
        // The first delimiter starts the body or follows a preamble's line end.
        let mut rest = if body.starts_with(&delimiter) {
            &body[delimiter.len()..]
        } else {
            let line = [b"\r\n", delimiter.as_slice()].concat();
            let at = find(body, &line).ok_or(MultipartError::NoOpening)?;
            &body[at + line.len()..]
        };
        let separator = [b"\r\n", delimiter.as_slice()].concat();
        let mut parts = Vec::new();
        loop {
            if rest.starts_with(b"--") {
                return Ok(Self { parts });
            }
            // Transport padding (spaces, tabs) may follow a delimiter.
            let padded = rest
                .iter()
                .take_while(|&&b| b == b' ' || b == b'\t')
                .count();
            rest = rest[padded..]
                .strip_prefix(b"\r\n")
                .ok_or(MultipartError::Delimiter)?;
            if parts.len() == MAX_PARTS {
                return Err(MultipartError::TooManyParts);
            }
            let end = find(rest, &separator).ok_or(MultipartError::NoClosing)?;
            parts.push(part(&rest[..end])?);
            rest = &rest[end + separator.len()..];
        }
    }

    /// The text of the first part named `name`, if any.
    pub(super) fn text(&self, name: &str) -> Result<Option<&str>, MultipartError> {
        self.part(name)
            .map(|part| {
                std::str::from_utf8(&part.data).map_err(|_| MultipartError::NotText(name.into()))
            })
            .transpose()
    }

    /// The first part named `name`, if any.
    pub(super) fn part(&self, name: &str) -> Option<&Part> {
        self.parts.iter().find(|part| part.name == name)
    }
}

/// The boundary of a `multipart/form-data; boundary=…` content type.
fn boundary(content_type: &str) -> Result<String, MultipartError> {
    let mut params = split_params(content_type).into_iter();
    let essence = params.next().unwrap_or_default();
    if !essence.trim().eq_ignore_ascii_case("multipart/form-data") {
        return Err(MultipartError::NotMultipart);
    }
    let boundary = params
        .filter_map(|param| {
            let (name, value) = param.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| unquote(value.trim()))
        })
        .next()
        .ok_or(MultipartError::Boundary)?;
    let valid = (1..=MAX_BOUNDARY).contains(&boundary.len())
        && !boundary.ends_with(' ')
        && boundary
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&b));
    if valid {
        Ok(boundary)
    } else {
        Err(MultipartError::Boundary)
    }
}

/// One part: headers, an empty line, the content.
fn part(raw: &[u8]) -> Result<Part, MultipartError> {
    let (headers, data) = if raw.starts_with(b"\r\n") {
        (&raw[..0], &raw[2..])
    } else {
        let end = find(raw, b"\r\n\r\n").ok_or(MultipartError::Headers)?;
        (&raw[..end], &raw[end + 4..])
    };
    if headers.len() > MAX_HEADER_BYTES {
        return Err(MultipartError::Headers);
    }
    let headers = std::str::from_utf8(headers).map_err(|_| MultipartError::Headers)?;
    let mut name = None;
    let mut filename = None;
    let mut content_type = None;
    for line in headers.split("\r\n").filter(|line| !line.is_empty()) {
        let (header, value) = line.split_once(':').ok_or(MultipartError::Headers)?;
        if header.trim().eq_ignore_ascii_case("content-disposition") {
            let mut params = split_params(value).into_iter();
            if !params
                .next()
                .is_some_and(|kind| kind.trim().eq_ignore_ascii_case("form-data"))
            {
                return Err(MultipartError::NoName);
            }
            for param in params {
                match param.split_once('=') {
                    Some((key, value)) if key.trim().eq_ignore_ascii_case("name") => {
                        name = Some(unquote(value.trim()));
                    }
                    Some((key, value)) if key.trim().eq_ignore_ascii_case("filename") => {
                        filename = Some(unquote(value.trim()));
                    }
                    _ => {}
                }
            }
        } else if header.trim().eq_ignore_ascii_case("content-type") {
            content_type = Some(value.trim().to_owned());
        }
    }
    Ok(Part {
        name: name
            .filter(|name| !name.is_empty())
            .ok_or(MultipartError::NoName)?,
        filename,
        content_type,
        data: data.to_vec(),
    })
}

/// Splits a header value on `;` outside quoted strings.
fn split_params(value: &str) -> Vec<&str> {
    let mut params = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (at, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                params.push(&value[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    params.push(&value[start..]);
    params
}

/// A parameter value without its quotes and backslash escapes (as is when not quoted).
fn unquote(value: &str) -> String {
    let Some(inner) = value
        .strip_prefix('"')
        .and_then(|value| value.strip_suffix('"'))
    else {
        return value.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().unwrap_or(c)
        } else {
            c
        });
    }
    out
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod unit {
    use super::*;

    const TYPE: &str = "multipart/form-data; boundary=XyZ";

    fn parse(body: &[u8]) -> Result<Form, MultipartError> {
        Form::parse(TYPE, body)
    }

    #[test]
    fn a_well_formed_form() {
        let body = b"preamble\r\n--XyZ\r\n\
            Content-Disposition: form-data; name=\"first_name\"\r\n\r\nAda\r\n--XyZ  \r\n\
            content-disposition: FORM-DATA; name=\"profile_image\"; filename=\"a;b\\\".png\"\r\n\
            Content-Type: image/png\r\n\r\n\x89PNG\r\n\x00\r\n--XyZ\r\n\
            Content-Disposition: form-data; name=empty\r\n\r\n\r\n--XyZ--\r\nepilogue";
        let form = parse(body).unwrap();
        assert_eq!(form.parts.len(), 3);
        assert_eq!(form.text("first_name").unwrap(), Some("Ada"));
        let image = form.part("profile_image").unwrap();
        assert_eq!(image.filename.as_deref(), Some("a;b\".png"));
        assert_eq!(image.content_type.as_deref(), Some("image/png"));
        assert_eq!(image.data, b"\x89PNG\r\n\x00");
        assert_eq!(form.text("empty").unwrap(), Some(""));
        assert_eq!(form.text("missing").unwrap(), None);
        assert_eq!(
            form.text("profile_image"),
            Err(MultipartError::NotText("profile_image".into()))
        );
        // A quoted boundary, an empty form.
        let form = Form::parse(
            "Multipart/Form-Data; charset=utf-8; boundary=\"a b\"",
            b"--a b--",
        );
        assert_eq!(form, Ok(Form::default()));
    }

    #[test]
    fn hostile_content_types() {
        for content_type in [
            "",
            "application/json",
            "multipart/mixed; boundary=XyZ",
            "multipart/form-data-x; boundary=XyZ",
        ] {
            assert_eq!(
                Form::parse(content_type, b"--XyZ--"),
                Err(MultipartError::NotMultipart),
                "{content_type}"
            );
        }
        let long = format!("multipart/form-data; boundary={}", "b".repeat(71));
        for content_type in [
            "multipart/form-data",
            "multipart/form-data;",
            "multipart/form-data; boundary=",
            "multipart/form-data; boundary=\"\"",
            "multipart/form-data; boundary=\"ends with space \"",
            "multipart/form-data; boundary=caf\u{e9}",
            "multipart/form-data; boundary=a\r\nb",
            long.as_str(),
        ] {
            assert_eq!(
                Form::parse(content_type, b"--XyZ--"),
                Err(MultipartError::Boundary),
                "{content_type}"
            );
        }
    }

    #[test]
    fn hostile_bodies() {
        let part = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue";
        let cases: [(&[u8], MultipartError); 12] = [
            (b"", MultipartError::NoOpening),
            (b"no delimiter at all", MultipartError::NoOpening),
            (b"x--XyZ\r\n", MultipartError::NoOpening),
            (part.as_bytes(), MultipartError::NoClosing),
            (b"--XyZ", MultipartError::Delimiter),
            (b"--XyZx\r\n\r\n--XyZ--", MultipartError::Delimiter),
            (
                b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n--XyZ--",
                MultipartError::Headers,
            ),
            (
                b"--XyZ\r\nno colon\r\n\r\nv\r\n--XyZ--",
                MultipartError::Headers,
            ),
            (
                b"--XyZ\r\n\xff: x\r\n\r\nv\r\n--XyZ--",
                MultipartError::Headers,
            ),
            (b"--XyZ\r\n\r\nv\r\n--XyZ--", MultipartError::NoName),
            (
                b"--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--XyZ--",
                MultipartError::NoName,
            ),
            (
                b"--XyZ\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nv\r\n--XyZ--",
                MultipartError::NoName,
            ),
        ];
        for (body, error) in cases {
            assert_eq!(parse(body), Err(error), "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn limits() {
        let huge = format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: {}\r\n\r\nv\r\n--XyZ--",
            "p".repeat(MAX_HEADER_BYTES)
        );
        assert_eq!(parse(huge.as_bytes()), Err(MultipartError::Headers));
        let one = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n";
        let at_limit = format!("{}--XyZ--", one.repeat(MAX_PARTS));
        assert_eq!(parse(at_limit.as_bytes()).unwrap().parts.len(), MAX_PARTS);
        let over = format!("{}--XyZ--", one.repeat(MAX_PARTS + 1));
        assert_eq!(parse(over.as_bytes()), Err(MultipartError::TooManyParts));
    }

    #[test]
    fn parameter_splitting() {
        assert_eq!(
            split_params("a; b=\"x;y\"; c"),
            vec!["a", " b=\"x;y\"", " c"]
        );
        assert_eq!(unquote("\"a\\\\b\\\"\""), "a\\b\"");
        assert_eq!(unquote("\"unterminated"), "\"unterminated");
        assert_eq!(unquote("\"\\"), "\"\\");
        assert_eq!(find(b"abc", b"c"), Some(2));
        assert_eq!(find(b"ab", b"abc"), None);
    }
}
