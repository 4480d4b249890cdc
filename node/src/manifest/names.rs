//! The API server's name rules (apimachinery `util/validation`), with its
//! messages, so an error reads as `kubectl apply` would print it.

const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')";
const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')";

fn label_chars(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// `IsDNS1123Label`: ≤ 63 characters.
pub fn dns1123_label(s: &str) -> Result<(), String> {
    if s.len() > 63 {
        return Err("must be no more than 63 characters".into());
    }
    if !label_chars(s) {
        return Err(LABEL_MSG.into());
    }
    Ok(())
}

/// `IsDNS1123Subdomain`: ≤ 253 characters, dot-separated labels.
pub fn dns1123_subdomain(s: &str) -> Result<(), String> {
    if s.len() > 253 {
        return Err("must be no more than 253 characters".into());
    }
    if !s.split('.').all(label_chars) {
        return Err(SUBDOMAIN_MSG.into());
    }
    Ok(())
}

fn name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// `IsQualifiedName`: label and annotation keys, `[prefix/]name`.
pub fn qualified_name(s: &str) -> Result<(), String> {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        if p.is_empty() {
            return Err("prefix part must be non-empty".into());
        }
        dns1123_subdomain(p).map_err(|e| format!("prefix part {e}"))?;
    }
    if !name_part(name) {
        return Err("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc'), and be at most 63 characters".into());
    }
    Ok(())
}

/// `IsValidLabelValue`: empty, or like a name part.
pub fn label_value(s: &str) -> Result<(), String> {
    if s.is_empty() || name_part(s) {
        Ok(())
    } else {
        Err("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345'), and be at most 63 characters".into())
    }
}

/// `IsValidPortName` (IANA_SVC_NAME).
pub fn port_name(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 15
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && s.bytes().any(|c| c.is_ascii_lowercase())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--");
    if ok {
        Ok(())
    } else {
        Err("must be no more than 15 characters, contain only lowercase letters, digits and '-', at least one letter, and no '-' at either end or twice in a row".into())
    }
}

/// Environment variable names: printable ASCII without `=` (the relaxed
/// rule, GA in Kubernetes 1.34).
pub fn env_name(s: &str) -> Result<(), String> {
    if !s.is_empty() && s.bytes().all(|c| (b' '..=b'~').contains(&c) && c != b'=') {
        Ok(())
    } else {
        Err("a valid environment variable name must consist only of printable ASCII characters other than '='".into())
    }
}

/// A path inside a volume: relative, no `..` element.
pub fn relative_path(s: &str) -> Result<(), String> {
    if s.starts_with('/') {
        return Err("must be a relative path".into());
    }
    if s.split('/').any(|p| p == "..") {
        return Err("must not contain '..'".into());
    }
    Ok(())
}

/// A path in the container or on the host: absolute, no `..` element.
pub fn absolute_path(s: &str) -> Result<(), String> {
    if !s.starts_with('/') {
        return Err("must be an absolute path (starting with /)".into());
    }
    if s.split('/').any(|p| p == "..") {
        return Err("must not contain '..'".into());
    }
    Ok(())
}

/// Pod UIDs name the pod cgroup: kubelab takes UUID-like ones only.
pub fn uid(s: &str) -> Result<(), String> {
    if !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        Ok(())
    } else {
        Err("must be 1 to 64 lowercase letters, digits or '-' (a UUID); or leave it out and the node makes one".into())
    }
}

/// A FlexVolume `driver`: a qualified name, `vendor/driver` (`kubelab/tmpfs`)
/// or `driver`. It names a folder and a file of the plugin directory, so
/// neither part may be `.` or `..` (a qualified name's parts cannot be).
pub fn flex_driver(s: &str) -> Result<(), String> {
    let (vendor, name) = match s.split_once('/') {
        Some((v, n)) => (Some(v), n),
        None => (None, s),
    };
    let vendor_ok = vendor.is_none_or(|v| dns1123_subdomain(v).is_ok() && !v.is_empty());
    if !vendor_ok || !name_part(name) || name.starts_with('.') {
        return Err(
            "must be `vendor/driver` (a DNS subdomain, `/`, then letters, digits, '-', '_' or '.', \
             starting and ending with a letter or digit), e.g. kubelab/tmpfs"
                .into(),
        );
    }
    Ok(())
}
