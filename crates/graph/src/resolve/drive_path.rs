//! The drive and item part of a path (`/me/drive/root:/a.xlsx:`, `/drives/{id}/items/{id}`), and the drive-item operations.

use super::*;

/// Whose drives a `…/drives` collection path lists: `/drives` and `/me/drives` the caller's.
pub(super) fn drives_of(segs: &[Segment]) -> Option<DriveRef> {
    let owner = match segs {
        [d] if d.is("drives") => DriveRef::Me,
        [me, d] if me.is("me") && d.is("drives") => DriveRef::Me,
        [kind, key, d] if d.is("drives") && key.args.is_none() => {
            let key = key.name.to_string();
            match kind.name.to_ascii_lowercase().as_str() {
                "users" => DriveRef::User(key),
                "sites" => DriveRef::Site(key),
                "groups" => DriveRef::Group(key),
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(owner)
}

/// The drive part: returns the drive and how many segments it used.
pub(super) fn drive_ref(segs: &[Segment]) -> Result<(DriveRef, usize), GraphError> {
    let name = |i: usize| segs.get(i).map(|s| s.name.as_ref());
    let key = |i: usize| -> Result<String, GraphError> {
        segs.get(i).map(|s| s.name.to_string()).ok_or_else(|| GraphError::unknown_segment(name(i - 1).unwrap_or("")))
    };
    let drive_at = |i: usize| -> Result<(), GraphError> {
        match segs.get(i) {
            Some(s) if s.is("drive") => Ok(()),
            Some(s) => Err(GraphError::unknown_segment(&s.name)),
            None => Err(GraphError::unknown_segment(name(i - 1).unwrap_or(""))),
        }
    };
    match segs.first() {
        // A drive by id under its owner (`/me/drives/{id}`, as List drives hands them out).
        Some(s) if s.is("me") && segs.get(1).is_some_and(|d| d.is("drives")) => Ok((DriveRef::Drive(key(2)?), 3)),
        Some(s)
            if matches!(segs.get(2), Some(d) if d.is("drives"))
                && (s.is("users") || s.is("sites") || s.is("groups")) =>
        {
            key(1)?;
            Ok((DriveRef::Drive(key(3)?), 4))
        }
        Some(s) if s.is("me") => {
            drive_at(1)?;
            Ok((DriveRef::Me, 2))
        }
        Some(s) if s.is("drive") => Ok((DriveRef::Me, 1)),
        Some(s) if s.is("users") => {
            let k = key(1)?;
            drive_at(2)?;
            Ok((DriveRef::User(k), 3))
        }
        Some(s) if s.is("drives") => Ok((DriveRef::Drive(key(1)?), 2)),
        Some(s) if s.is("sites") => {
            let k = key(1)?;
            drive_at(2)?;
            Ok((DriveRef::Site(k), 3))
        }
        Some(s) if s.is("groups") => {
            let k = key(1)?;
            drive_at(2)?;
            Ok((DriveRef::Group(k), 3))
        }
        Some(s) => Err(GraphError::unknown_segment(&s.name)),
        None => Err(GraphError::unknown_segment("")),
    }
}

pub(super) fn root_path(seg: &str) -> Option<String> {
    let inner = seg.strip_prefix("root:")?.strip_suffix(':')?;
    Some(inner.trim_matches('/').to_string())
}

/// The item part: `root`, `root:/path:`, `items/{id}` or `items/root:/path:`.
pub(super) fn item_ref(segs: &[Segment]) -> Result<(ItemRef, usize), GraphError> {
    let path_item = |p: String| if p.is_empty() { ItemRef::Root } else { ItemRef::Path(p) };
    match segs.first() {
        Some(s) if s.is("root") => Ok((ItemRef::Root, 1)),
        Some(s) if s.name.starts_with("root:") => {
            Ok((path_item(root_path(&s.name).ok_or_else(|| GraphError::unknown_segment(&s.name))?), 1))
        }
        Some(s) if s.is("items") => match segs.get(1) {
            // Kiota puts `root:/path:` where the item id goes.
            Some(k) if k.name.starts_with("root:") => {
                Ok((path_item(root_path(&k.name).ok_or_else(|| GraphError::unknown_segment(&k.name))?), 2))
            }
            Some(k) if k.is("root") => Ok((ItemRef::Root, 2)),
            Some(k) if k.name.ends_with(':') && k.name.contains(":/") => {
                let (base, path) = k.name.split_once(":/").unwrap_or_default();
                let path = path.trim_end_matches(':').trim_matches('/');
                if base.is_empty() || path.is_empty() {
                    return Err(GraphError::unknown_segment(&k.name));
                }
                Ok((ItemRef::IdPath(base.to_string(), path.to_string()), 2))
            }
            Some(k) => Ok((ItemRef::Id(k.name.to_string()), 2)),
            None => Err(GraphError::unknown_segment("items")),
        },
        Some(s) => Err(GraphError::unknown_segment(&s.name)),
        None => Err(GraphError::unknown_segment("drive")),
    }
}

pub(super) fn item_operation(method: &str, item: ItemAddress, tail: &[Segment]) -> Result<Operation, GraphError> {
    // Clients send methods in upper case; anything else is compared upper-cased.
    let m: Cow<str> = if method.bytes().any(|b| b.is_ascii_lowercase()) {
        Cow::Owned(method.to_ascii_uppercase())
    } else {
        Cow::Borrowed(method)
    };
    match tail.first() {
        None => match m.as_ref() {
            "GET" => Ok(Operation::ItemGet(item)),
            "DELETE" => Ok(Operation::ItemDelete(item)),
            _ => Err(GraphError::method_not_allowed(method, "driveItem")),
        },
        Some(s) if s.is("content") && tail.len() == 1 => match m.as_ref() {
            "GET" => Ok(Operation::ContentGet(item)),
            "PUT" => Ok(Operation::ContentPut(item)),
            _ => Err(GraphError::method_not_allowed(method, "driveItem content")),
        },
        Some(s) if s.is("children") && tail.len() == 1 => match m.as_ref() {
            "GET" => Ok(Operation::ItemChildren(item)),
            _ => Err(GraphError::method_not_allowed(method, "driveItem children")),
        },
        Some(s) if s.is("workbook") => workbook_operation(&m, method, item, &tail[1..]),
        Some(s) => Err(GraphError::unknown_segment(&s.name)),
    }
}
