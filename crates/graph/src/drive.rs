//! Drive items: finding them (with the caller's right to the drive), and their JSON.

use std::time::{Duration, SystemTime};

use serde_json::Value;
use store::{Drive, DriveStore, Item};

use crate::auth::Principal;
use crate::dto::responses::{self, to_json};
use crate::error::{Code, GraphError};
use crate::resolve::{DriveRef, ItemAddress, ItemRef};

pub const XLSX_MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The drive an address names, if the caller may use it.
pub fn locate_drive(store: &dyn DriveStore, who: &Principal, drive: &DriveRef) -> Result<Drive, GraphError> {
    let denied = || GraphError::new(Code::AccessDenied, None, "Access denied: the drive is not the caller's.");
    let found = match drive {
        DriveRef::Me => store.drive_for_owner(who.drive_owner()),
        DriveRef::User(key) if who.is(key) => store.drive_for_owner(who.drive_owner()),
        DriveRef::User(_) => return Err(denied()),
        DriveRef::Site(id) => store.drive_for_owner(&format!("site:{id}")),
        DriveRef::Group(id) => store.drive_for_owner(&format!("group:{id}")),
        DriveRef::Drive(id) => {
            // An unknown drive id answers as another user's does, so that a 403 tells nobody
            // that a drive exists.
            let d = store.drive(id).map_err(GraphError::from)?.ok_or_else(denied)?;
            // Site and group drives are shared; a user's drive is its owner's alone.
            if d.owner.starts_with("user:") && d.owner != who.drive_owner() {
                return Err(denied());
            }
            return Ok(d);
        }
    };
    found.map_err(GraphError::from)
}

/// Walks `a/b/c` below `from`; `None` when some part is missing.
pub fn walk(store: &dyn DriveStore, from: &str, path: &str) -> Result<Option<Item>, GraphError> {
    let mut current = store.item(from).map_err(GraphError::from)?;
    for part in path.split('/').filter(|p| !p.is_empty()) {
        let Some(parent) = current else { return Ok(None) };
        current = store.child(&parent.id, part).map_err(GraphError::from)?;
    }
    Ok(current)
}

/// The item an address names, which must exist on the drive.
pub fn locate_item(store: &dyn DriveStore, drive: &Drive, address: &ItemAddress) -> Result<Item, GraphError> {
    let found = match &address.item {
        ItemRef::Root => store.item(&drive.root_id).map_err(GraphError::from)?,
        ItemRef::Path(p) => walk(store, &drive.root_id, p)?,
        ItemRef::Id(id) => store.item(id).map_err(GraphError::from)?,
        ItemRef::IdPath(base, p) => match store.item(base).map_err(GraphError::from)? {
            Some(b) if b.drive_id == drive.id => walk(store, &b.id, p)?,
            _ => None,
        },
    };
    found.filter(|i| i.drive_id == drive.id).ok_or_else(GraphError::drive_item_not_found)
}

/// Where an upload goes: the parent folder id (creating missing folders) and the file name; or
/// the existing item when addressed by id.
pub enum UploadTarget {
    Existing(Item),
    New { parent_id: String, name: String },
}

pub fn upload_target(store: &dyn DriveStore, drive: &Drive, address: &ItemAddress) -> Result<UploadTarget, GraphError> {
    let (base, path) = match &address.item {
        ItemRef::Root => return Err(GraphError::new(Code::InvalidRequest, None, "Cannot upload content to the root.")),
        ItemRef::Id(_) => {
            let item = locate_item(store, drive, address)?;
            if item.is_folder {
                return Err(GraphError::new(Code::InvalidRequest, None, "Cannot upload content to a folder."));
            }
            return Ok(UploadTarget::Existing(item));
        }
        ItemRef::Path(p) => (drive.root_id.clone(), p.clone()),
        ItemRef::IdPath(base, p) => {
            let b = store
                .item(base)
                .map_err(GraphError::from)?
                .filter(|b| b.drive_id == drive.id)
                .ok_or_else(GraphError::drive_item_not_found)?;
            (b.id, p.clone())
        }
    };
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let Some((name, folders)) = parts.split_last() else {
        return Err(GraphError::new(Code::InvalidRequest, None, "The path names no file."));
    };
    // Every name and the whole path are checked before a folder is made: a refused upload
    // leaves nothing behind.
    for part in &parts {
        store::valid_name(part).map_err(GraphError::from)?;
    }
    let base_item = store.item(&base).map_err(GraphError::from)?.ok_or_else(GraphError::drive_item_not_found)?;
    let base_path = folder_path(store, &base_item);
    let under_root = base_path.strip_prefix("/drive/root:").unwrap_or("").chars().count();
    let total = under_root + parts.iter().map(|p| p.chars().count() + 1).sum::<usize>();
    if total > store::MAX_PATH_CHARS {
        return Err(GraphError::new(
            Code::InvalidRequest,
            None,
            format!("The path is {total} characters long; OneDrive takes at most {}.", store::MAX_PATH_CHARS),
        ));
    }
    let mut parent = base;
    for folder in folders {
        parent = store.ensure_folder(&parent, folder).map_err(GraphError::from)?.id;
    }
    Ok(UploadTarget::New { parent_id: parent, name: (*name).to_string() })
}

/// `/drive/root:/a/b`: the path of a folder, as parentReference shows it.
fn folder_path(store: &dyn DriveStore, folder: &Item) -> String {
    let mut names = Vec::new();
    let mut current = Some(folder.clone());
    let mut guard = 0;
    while let Some(item) = current {
        let Some(parent) = item.parent_id.as_deref() else { break };
        names.push(item.name.clone());
        current = store.item(parent).ok().flatten();
        guard += 1;
        if guard > 1000 {
            break;
        }
    }
    names.reverse();
    if names.is_empty() {
        "/drive/root:".to_string()
    } else {
        format!("/drive/root:/{}", names.join("/"))
    }
}

pub fn mime_type(name: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".xlsx") {
        XLSX_MIME
    } else if lower.ends_with(".xlsm") {
        "application/vnd.ms-excel.sheet.macroEnabled.12"
    } else if lower.ends_with(".csv") {
        "text/csv"
    } else {
        "application/octet-stream"
    }
}

/// `2026-11-28T12:00:00Z`
pub fn timestamp(ms: i64) -> String {
    let t = SystemTime::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    format!("{}Z", crate::context::iso_date(t))
}

/// The driveItem resource.
pub fn item_json(store: &dyn DriveStore, item: &Item, download_url: Option<String>) -> Value {
    let parent = item.parent_id.as_deref().and_then(|p| store.item(p).ok().flatten());
    let file = !item.is_folder;
    to_json(&responses::DriveItem {
        id: item.id.clone(),
        name: item.name.clone(),
        size: item.size,
        e_tag: item.etag(),
        created_date_time: timestamp(item.created_ms),
        last_modified_date_time: timestamp(item.modified_ms),
        c_tag: file.then(|| item.ctag()),
        file: file.then(|| responses::FileFacet { mime_type: mime_type(&item.name) }),
        folder: item
            .is_folder
            .then(|| responses::FolderFacet { child_count: store.children(&item.id).map(|c| c.len()).unwrap_or(0) }),
        root: (item.is_folder && item.parent_id.is_none()).then(|| Value::Object(Default::default())),
        download_url: download_url.filter(|_| file),
        parent_reference: responses::ItemReference {
            drive_id: item.drive_id.clone(),
            drive_type: "business",
            path: parent.as_ref().map(|p| folder_path(store, p)),
            id: parent.map(|p| p.id),
        },
    })
}
