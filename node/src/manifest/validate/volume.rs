//! A volume's checks: its name, exactly one source, paths and modes.

use super::container::resource_field;
use super::{names, subscripted_field, Checks, VOLUME_FIELDS};
use k8s_openapi::api::core::v1::Volume;

fn mode(c: &mut Checks, p: &str, m: Option<i32>) {
    if let Some(m) = m.filter(|m| !(0..=0o777).contains(m)) {
        c.invalid(
            p,
            &m.to_string(),
            "must be a number between 0 and 0777 (octal), both inclusive",
        );
    }
}

pub(super) fn volume(
    c: &mut Checks,
    p: &str,
    v: &Volume,
    spec: &k8s_openapi::api::core::v1::PodSpec,
) {
    if v.name.is_empty() {
        c.required(&format!("{p}.name"));
    } else {
        c.check(&format!("{p}.name"), &v.name, names::dns1123_label);
    }
    let sources = [
        v.empty_dir.is_some(),
        v.host_path.is_some(),
        v.config_map.is_some(),
        v.secret.is_some(),
        v.downward_api.is_some(),
        v.flex_volume.is_some(),
    ];
    match sources.iter().filter(|b| **b).count() {
        0 => c.other(p, "Required value: must specify a volume type (emptyDir, hostPath, configMap, secret, downwardAPI or flexVolume)".into()),
        1 => {}
        _ => c.other(p, "Forbidden: may not specify more than 1 volume type".into()),
    }
    if let Some(h) = &v.host_path {
        c.check(&format!("{p}.hostPath.path"), &h.path, names::absolute_path);
    }
    if let Some(f) = &v.flex_volume {
        c.check(
            &format!("{p}.flexVolume.driver"),
            &f.driver,
            names::flex_driver,
        );
        for (k, val) in f.options.iter().flatten() {
            if k.is_empty() || k.len() > 253 || val.len() > 4096 {
                c.invalid(
                    &format!("{p}.flexVolume.options"),
                    k,
                    "keys of 1 to 253 bytes, values of at most 4096",
                );
            }
        }
    }
    let all: Vec<&str> = spec
        .init_containers
        .iter()
        .flatten()
        .chain(&spec.containers)
        .map(|k| k.name.as_str())
        .collect();
    let items =
        |c: &mut Checks, base: &str, items: Option<&Vec<k8s_openapi::api::core::v1::KeyToPath>>| {
            for (i, it) in items.into_iter().flatten().enumerate() {
                c.check(
                    &format!("{base}.items[{i}].path"),
                    &it.path,
                    names::relative_path,
                );
                if it.key.is_empty() {
                    c.required(&format!("{base}.items[{i}].key"));
                }
                mode(c, &format!("{base}.items[{i}].mode"), it.mode);
            }
        };
    if let Some(cm) = &v.config_map {
        c.check(
            &format!("{p}.configMap.name"),
            &cm.name,
            names::dns1123_subdomain,
        );
        items(c, &format!("{p}.configMap"), cm.items.as_ref());
        mode(c, &format!("{p}.configMap.defaultMode"), cm.default_mode);
    }
    if let Some(s) = &v.secret {
        c.check(
            &format!("{p}.secret.secretName"),
            s.secret_name.as_deref().unwrap_or(""),
            names::dns1123_subdomain,
        );
        items(c, &format!("{p}.secret"), s.items.as_ref());
        mode(c, &format!("{p}.secret.defaultMode"), s.default_mode);
    }
    if let Some(d) = &v.downward_api {
        mode(c, &format!("{p}.downwardAPI.defaultMode"), d.default_mode);
        for (i, it) in d.items.iter().flatten().enumerate() {
            let ip = format!("{p}.downwardAPI.items[{i}]");
            c.check(&format!("{ip}.path"), &it.path, names::relative_path);
            mode(c, &format!("{ip}.mode"), it.mode);
            match (&it.field_ref, &it.resource_field_ref) {
                (Some(f), None) => {
                    if !VOLUME_FIELDS.contains(&f.field_path.as_str())
                        && !subscripted_field(&f.field_path)
                    {
                        c.invalid(
                            &format!("{ip}.fieldRef.fieldPath"),
                            &f.field_path,
                            &format!("supported values: {}", VOLUME_FIELDS.join(", ")),
                        );
                    }
                }
                (None, Some(r)) => {
                    resource_field(c, &format!("{ip}.resourceFieldRef"), r, &all, true)
                }
                _ => c.other(
                    &ip,
                    "Invalid value: must specify exactly one of `fieldRef` or `resourceFieldRef`"
                        .into(),
                ),
            }
        }
    }
}
