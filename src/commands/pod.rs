//! `kubelab pod …`: kubectl-shaped commands for a running `kubelab node`,
//! over its socket. Everything that came from a manifest or a container is
//! sanitized before it reaches the terminal.

use kubelab_node::api::client::{call, request};
use kubelab_node::api::{Reply, Request, TopRow};
use kubelab_node::status::printer::{pod_row, table};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Pods on a running `kubelab node`, kubectl-style.
#[derive(Debug, clap::Args)]
pub struct PodArgs {
    /// The node's state directory (as given to `kubelab node`).
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// The Pods' namespace.
    #[arg(
        long,
        short = 'n',
        global = true,
        value_name = "NS",
        default_value = "default"
    )]
    pub namespace: String,
    #[command(subcommand)]
    pub command: PodCommand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Wide,
    Yaml,
    Json,
}

#[derive(Debug, clap::Subcommand)]
pub enum PodCommand {
    /// Create Pods from a manifest file, or every .yaml/.yml/.json file of a directory.
    Apply {
        #[arg(short = 'f', long = "filename", value_name = "FILE|DIR")]
        file: PathBuf,
    },
    /// List Pods (READY, STATUS, RESTARTS, AGE), or one.
    Get {
        name: Option<String>,
        #[arg(short = 'o', long = "output", value_enum)]
        output: Option<Output>,
        /// Keep printing rows as they change.
        #[arg(short = 'w', long)]
        watch: bool,
    },
    /// Show a Pod's details and events.
    Describe { name: String },
    /// Print a container's logs.
    Logs {
        name: String,
        #[arg(short = 'c', long)]
        container: Option<String>,
        #[arg(short = 'f', long)]
        follow: bool,
        /// The last terminated instance's logs.
        #[arg(short = 'p', long)]
        previous: bool,
        #[arg(long, value_name = "N")]
        tail: Option<usize>,
    },
    /// Run a command in a container; `-it` on a terminal of its own.
    Exec {
        name: String,
        #[arg(short = 'c', long)]
        container: Option<String>,
        /// Pass stdin to the command (with -t: an interactive session).
        #[arg(short = 'i', long)]
        stdin: bool,
        /// Give the command a terminal (needs -i).
        #[arg(short = 't', long)]
        tty: bool,
        #[arg(last = true, required = true, value_name = "CMD")]
        command: Vec<String>,
    },
    /// Delete a Pod (its containers get their grace period).
    Delete {
        name: String,
        #[arg(long, value_name = "SECONDS")]
        grace_period: Option<u64>,
    },
    /// CPU and memory of each Pod, from its cgroup.
    Top {},
    /// List Services (TYPE, CLUSTER-IP, PORT(S), AGE), or one.
    #[command(name = "get-svc")]
    GetSvc {
        name: Option<String>,
        #[arg(short = 'o', long = "output", value_enum)]
        output: Option<Output>,
    },
    /// List the Services' Endpoints (their Ready Pods' addresses), or one's.
    #[command(name = "get-endpoints")]
    GetEndpoints {
        name: Option<String>,
        #[arg(short = 'o', long = "output", value_enum)]
        output: Option<Output>,
    },
    /// Show a Service's details and endpoints.
    #[command(name = "describe-svc")]
    DescribeSvc { name: String },
    /// Delete a Service (its rules and DNS name go at once).
    #[command(name = "delete-svc")]
    DeleteSvc { name: String },
}

fn out(s: &str) -> anyhow::Result<()> {
    let mut o = std::io::stdout().lock();
    o.write_all(crate::sanitize::text(s).as_bytes())?;
    o.flush()?;
    Ok(())
}

fn fail(message: &str) -> anyhow::Error {
    anyhow::anyhow!("{message}")
}

fn one(state: &Path, req: &Request) -> anyhow::Result<Reply> {
    match request(state, req).map_err(|e| fail(&e))? {
        Reply::Error { message } => Err(fail(&message)),
        r => Ok(r),
    }
}

pub fn run(a: PodArgs) -> anyhow::Result<i32> {
    let state = super::node::state_dir(a.state_dir);
    let ns = a.namespace;
    match a.command {
        PodCommand::Apply { file } => {
            for f in manifest_files(&file)? {
                let text = read_manifest(&f)?;
                let req = Request::Apply {
                    file: f.display().to_string(),
                    text,
                };
                if let Reply::Messages { lines } = one(&state, &req)? {
                    for l in lines {
                        out(&format!("{l}\n"))?;
                    }
                }
            }
            Ok(0)
        }
        PodCommand::Get {
            name,
            output,
            watch,
        } => get(&state, &ns, name, output, watch),
        PodCommand::Describe { name } => {
            if let Reply::Text { text } = one(
                &state,
                &Request::Describe {
                    name,
                    namespace: ns,
                },
            )? {
                out(&text)?;
            }
            Ok(0)
        }
        PodCommand::Logs {
            name,
            container,
            follow,
            previous,
            tail,
        } => {
            let req = Request::Logs {
                name,
                namespace: ns,
                container,
                previous,
                follow,
                tail,
            };
            let mut error = None;
            let mut write_err = None;
            call(&state, &req, &mut |r| match r {
                Reply::Log { data } => match out(&data) {
                    Ok(()) => true,
                    Err(e) => {
                        write_err = Some(e);
                        false
                    }
                },
                Reply::Error { message } => {
                    error = Some(message);
                    false
                }
                _ => true,
            })
            .map_err(|e| fail(&e))?;
            if let Some(e) = write_err {
                return Err(e);
            }
            match error {
                Some(m) => Err(fail(&m)),
                None => Ok(0),
            }
        }
        PodCommand::Exec {
            name,
            container,
            stdin,
            tty,
            command,
        } => {
            if stdin || tty {
                if !(stdin && tty) {
                    return Err(fail(
                        "only -i and -t together (`exec -it`) or neither are supported; use -it for a shell",
                    ));
                }
                return super::pod_exec_tty::run(&state, ns, name, container, command);
            }
            let req = Request::Exec {
                name,
                namespace: ns,
                container,
                argv: command,
                timeout_secs: None,
            };
            match one(&state, &req)? {
                Reply::Exec {
                    exit_code,
                    stdout,
                    stderr,
                } => {
                    out(&stdout)?;
                    eprint!("{}", crate::sanitize::text(&stderr));
                    Ok(exit_code.clamp(0, 255))
                }
                _ => Err(fail("unexpected answer from the node")),
            }
        }
        PodCommand::Delete { name, grace_period } => {
            let req = Request::Delete {
                name,
                namespace: ns,
                grace_seconds: grace_period,
            };
            if let Reply::Messages { lines } = one(&state, &req)? {
                for l in lines {
                    out(&format!("{l}\n"))?;
                }
            }
            Ok(0)
        }
        PodCommand::Top {} => {
            if let Reply::Top { rows } = one(&state, &Request::Top {})? {
                out(&top_table(&rows, &ns))?;
            }
            Ok(0)
        }
        PodCommand::GetSvc { name, output } => get_services(&state, &ns, name, output, false),
        PodCommand::GetEndpoints { name, output } => get_services(&state, &ns, name, output, true),
        PodCommand::DescribeSvc { name } => {
            let req = Request::DescribeService {
                name,
                namespace: ns,
            };
            if let Reply::Text { text } = one(&state, &req)? {
                out(&text)?;
            }
            Ok(0)
        }
        PodCommand::DeleteSvc { name } => {
            let req = Request::DeleteService {
                name,
                namespace: ns,
            };
            if let Reply::Messages { lines } = one(&state, &req)? {
                for l in lines {
                    out(&format!("{l}\n"))?;
                }
            }
            Ok(0)
        }
    }
}

/// `get svc` (`endpoints`: `get endpoints`) in kubectl's formats.
fn get_services(
    state: &Path,
    ns: &str,
    name: Option<String>,
    output: Option<Output>,
    endpoints: bool,
) -> anyhow::Result<i32> {
    let req = Request::GetServices {
        name: name.clone(),
        namespace: ns.to_string(),
    };
    let (services, eps) = match one(state, &req)? {
        Reply::Services {
            services,
            endpoints,
        } => (services, endpoints),
        _ => return Err(fail("unexpected answer from the node")),
    };
    if let Some(Output::Json | Output::Yaml) = output {
        let items = if endpoints {
            serde_json::to_value(&eps)?
        } else {
            serde_json::to_value(&services)?
        };
        let kind = if endpoints { "Endpoints" } else { "Service" };
        let v = match items {
            serde_json::Value::Array(mut a) if name.is_some() && a.len() == 1 => {
                let mut one = a.remove(0);
                if let Some(o) = one.as_object_mut() {
                    o.insert("apiVersion".into(), "v1".into());
                    o.insert("kind".into(), kind.into());
                }
                one
            }
            items => serde_json::json!({
                "apiVersion": "v1",
                "kind": "List",
                "items": items,
                "metadata": {"resourceVersion": ""},
            }),
        };
        let text = if output == Some(Output::Json) {
            format!("{}\n", serde_json::to_string_pretty(&v)?)
        } else {
            to_yaml(&v)
        };
        out(&text)?;
        return Ok(0);
    }
    if services.is_empty() {
        eprintln!(
            "No resources found in {} namespace.",
            crate::sanitize::line(ns)
        );
        return Ok(0);
    }
    let now = kubelab_node::agent::now_utc();
    let table = if endpoints {
        kubelab_node::service::printer::endpoints_table(&eps, &services, now)
    } else {
        kubelab_node::service::printer::services_table(&services, output == Some(Output::Wide), now)
    };
    out(&table)?;
    Ok(0)
}

/// `-f FILE` or every manifest of `-f DIR` (kubectl's extensions), sorted.
pub fn manifest_files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path).map_err(|e| {
        fail(&format!(
            "{}: {e}; give a manifest file or a directory of them",
            path.display()
        ))
    })?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml" | "json")
                )
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(fail(&format!(
            "{}: no .yaml, .yml or .json files in this directory",
            path.display()
        )));
    }
    Ok(files)
}

fn read_manifest(f: &Path) -> anyhow::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(f)
        .and_then(|h| {
            h.take(kubelab_node::manifest::MAX_FILE_BYTES + 1)
                .read_to_string(&mut text)
        })
        .map_err(|e| {
            fail(&format!(
                "{}:1:1: cannot read the manifest as UTF-8 text: {e}",
                f.display()
            ))
        })?;
    if text.len() as u64 > kubelab_node::manifest::MAX_FILE_BYTES {
        return Err(fail(&format!(
            "{}:1:1: the manifest is larger than {} bytes; split it",
            f.display(),
            kubelab_node::manifest::MAX_FILE_BYTES
        )));
    }
    Ok(text)
}

fn get(
    state: &Path,
    ns: &str,
    name: Option<String>,
    output: Option<Output>,
    watch: bool,
) -> anyhow::Result<i32> {
    let req = Request::Get {
        name: name.clone(),
        namespace: ns.to_string(),
    };
    let pods = match one(state, &req)? {
        Reply::Pods { pods } => pods,
        _ => return Err(fail("unexpected answer from the node")),
    };
    match output {
        Some(Output::Json) => {
            let v = if name.is_some() && pods.len() == 1 {
                serde_json::to_value(&pods[0])?
            } else {
                list_value(&pods)?
            };
            out(&format!("{}\n", serde_json::to_string_pretty(&v)?))?;
            return Ok(0);
        }
        Some(Output::Yaml) => {
            let v = if name.is_some() && pods.len() == 1 {
                serde_json::to_value(&pods[0])?
            } else {
                list_value(&pods)?
            };
            out(&to_yaml(&v))?;
            return Ok(0);
        }
        _ => {}
    }
    let wide = output == Some(Output::Wide);
    let now = kubelab_node::agent::now_utc();
    let rows: Vec<_> = pods.iter().map(|p| pod_row(p, now)).collect();
    if rows.is_empty() && !watch {
        eprintln!(
            "No resources found in {} namespace.",
            crate::sanitize::line(ns)
        );
        return Ok(0);
    }
    out(&table(&rows, wide))?;
    if !watch {
        return Ok(0);
    }
    // -w: print a row again whenever it changes (kubectl's watch output).
    // RESTARTS carries the last restart's age (`3 (12s ago)`), which moves
    // every second: only the count is a change.
    let key = |r: &kubelab_node::status::printer::PodRow| {
        let count = r.restarts.split_whitespace().next().unwrap_or("");
        format!("{}|{}|{count}", r.ready, r.status)
    };
    let mut last: std::collections::BTreeMap<String, String> =
        rows.iter().map(|r| (r.name.clone(), key(r))).collect();
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
        let pods = match one(state, &req)? {
            Reply::Pods { pods } => pods,
            _ => return Err(fail("unexpected answer from the node")),
        };
        let now = kubelab_node::agent::now_utc();
        for p in &pods {
            let r = pod_row(p, now);
            let k = key(&r);
            if last.get(&r.name) != Some(&k) {
                last.insert(r.name.clone(), k);
                let t = table(std::slice::from_ref(&r), wide);
                out(t.split_once('\n').map(|(_, rest)| rest).unwrap_or(""))?;
            }
        }
    }
}

fn list_value(pods: &[k8s_openapi::api::core::v1::Pod]) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": serde_json::to_value(pods)?,
        "metadata": {"resourceVersion": ""},
    }))
}

/// `-o yaml`: the JSON value as block YAML (as kubectl prints it).
pub fn to_yaml(v: &serde_json::Value) -> String {
    fn conv(v: &serde_json::Value) -> yaml_rust2::Yaml {
        use yaml_rust2::Yaml;
        match v {
            serde_json::Value::Null => Yaml::Null,
            serde_json::Value::Bool(b) => Yaml::Boolean(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Yaml::Integer(i),
                None => Yaml::Real(n.to_string()),
            },
            serde_json::Value::String(s) => Yaml::String(s.clone()),
            serde_json::Value::Array(a) => Yaml::Array(a.iter().map(conv).collect()),
            serde_json::Value::Object(o) => {
                let mut h = yaml_rust2::yaml::Hash::new();
                for (k, v) in o {
                    h.insert(Yaml::String(k.clone()), conv(v));
                }
                Yaml::Hash(h)
            }
        }
    }
    let mut s = String::new();
    let mut em = yaml_rust2::YamlEmitter::new(&mut s);
    if em.dump(&conv(v)).is_err() {
        return String::new();
    }
    let body = s.strip_prefix("---\n").unwrap_or(&s);
    format!("{body}\n")
}

fn quantity_mi(bytes: u64) -> String {
    format!("{}Mi", bytes / (1024 * 1024))
}

/// `kubectl top pod`'s table.
pub fn top_table(rows: &[TopRow], ns: &str) -> String {
    let mut cells = vec![["NAME", "CPU(cores)", "MEMORY(bytes)"]
        .map(String::from)
        .to_vec()];
    for r in rows.iter().filter(|r| r.namespace == ns) {
        cells.push(vec![
            r.name.clone(),
            r.cpu_milli
                .map(|m| format!("{m}m"))
                .unwrap_or_else(|| "<unknown>".into()),
            r.memory_bytes
                .map(quantity_mi)
                .unwrap_or_else(|| "<unknown>".into()),
        ]);
    }
    kubelab_node::status::printer::columns(&cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_output_is_block_yaml_without_a_document_marker() {
        let v = serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": {"containers": [{"name": "c", "args": ["a"]}]}});
        let y = to_yaml(&v);
        assert!(
            y.starts_with("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n"),
            "{y}"
        );
        assert!(
            y.contains("- args:\n") && y.contains("        - a\n") && y.contains("      name: c\n"),
            "{y}"
        );
    }

    #[test]
    fn top_prints_kubectl_columns() {
        let rows = vec![
            TopRow {
                namespace: "default".into(),
                name: "web".into(),
                cpu_milli: Some(3),
                memory_bytes: Some(5 << 20),
            },
            TopRow {
                namespace: "other".into(),
                name: "x".into(),
                cpu_milli: None,
                memory_bytes: None,
            },
        ];
        assert_eq!(
            top_table(&rows, "default"),
            "NAME   CPU(cores)   MEMORY(bytes)\nweb    3m           5Mi\n"
        );
    }

    #[test]
    fn apply_reads_a_directorys_manifests_in_order() {
        let d = tempfile::tempdir().unwrap();
        for f in ["b.yaml", "a.yml", "c.json", "notes.txt"] {
            std::fs::write(d.path().join(f), "x").unwrap();
        }
        let files = manifest_files(d.path()).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["a.yml", "b.yaml", "c.json"]);
        let e = manifest_files(&d.path().join("missing"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing"), "{e}");
    }

    #[test]
    fn talking_to_no_node_says_how_to_start_one() {
        let d = tempfile::tempdir().unwrap();
        let e = one(d.path(), &Request::Top {}).unwrap_err().to_string();
        assert!(e.contains("start one with `kubelab node`"), "{e}");
    }
}
