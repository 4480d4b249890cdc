//! `kubelab kubectl …` (hidden): kubectl's spelling of what a lab's node
//! supports, mapped onto [`super::pod`]. A node lab's sandboxes have a
//! `kubectl` that is a two-line script calling it (src/lab/node/tools.rs),
//! so learners type what they would type on a cluster; anything the node
//! cannot do is refused saying what it can.

use super::pod::{Output, PodArgs, PodCommand};
use clap::Parser;
use std::path::PathBuf;

/// kubectl for the lab's node (`kubelab pod` under kubectl's spelling).
#[derive(Debug, clap::Args)]
pub struct KubectlArgs {
    /// kubectl's arguments, as typed.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub args: Vec<String>,
}

/// What the lab's node supports, for every refusal.
pub const SUPPORTED: &str = "\
this kubectl talks to the lab's own node, which runs Pods and ClusterIP
Services only; it supports:
  kubectl apply -f FILE|DIR|-            (Pods and Services)
  kubectl get pods|pod|po [NAME] [-o wide|yaml|json] [-w]
  kubectl get services|service|svc [NAME] [-o wide|yaml|json]
  kubectl get endpoints|ep [NAME] [-o yaml|json]
  kubectl describe pod|svc NAME
  kubectl logs NAME [-c CONTAINER] [-f] [--previous] [--tail N]
  kubectl exec [-it] NAME [-c CONTAINER] -- COMMAND [ARGS…]
  kubectl delete pod NAME [--grace-period N] [--now]
  kubectl delete svc NAME
  kubectl top pod
  (-n NAMESPACE with any of them; default: default)";

#[derive(Debug, Parser)]
#[command(
    name = "kubectl",
    no_binary_name = true,
    disable_version_flag = true,
    after_help = SUPPORTED
)]
struct Kubectl {
    #[arg(short = 'n', long, global = true, default_value = "default")]
    namespace: String,
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Debug, clap::Subcommand)]
enum Verb {
    /// Create Pods from a manifest file or a directory of them.
    Apply {
        #[arg(short = 'f', long = "filename")]
        file: PathBuf,
    },
    /// List Pods, Services or Endpoints, or show one.
    Get {
        resource: String,
        name: Option<String>,
        #[arg(short = 'o', long = "output")]
        output: Option<String>,
        #[arg(short = 'w', long)]
        watch: bool,
    },
    /// Show a Pod's or a Service's details.
    Describe {
        resource: String,
        name: Option<String>,
    },
    /// Print a container's logs.
    Logs {
        name: String,
        #[arg(short = 'c', long)]
        container: Option<String>,
        #[arg(short = 'f', long)]
        follow: bool,
        #[arg(short = 'p', long)]
        previous: bool,
        #[arg(long, allow_hyphen_values = true)]
        tail: Option<i64>,
    },
    /// Run a command in a container.
    Exec {
        name: String,
        #[arg(short = 'c', long)]
        container: Option<String>,
        #[arg(short = 'i', long)]
        stdin: bool,
        #[arg(short = 't', long)]
        tty: bool,
        #[arg(last = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// Delete a Pod or a Service.
    Delete {
        resource: String,
        name: Option<String>,
        #[arg(long, allow_hyphen_values = true)]
        grace_period: Option<i64>,
        #[arg(long)]
        now: bool,
        #[arg(long)]
        force: bool,
    },
    /// CPU and memory of each Pod.
    Top { resource: String },
}

/// The resource types the lab's node has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pod,
    Service,
    Endpoints,
}

/// A resource type in any of kubectl's spellings, optionally `TYPE/NAME`:
/// the type and the name given either way (`None`: none given).
fn resource(resource: &str, name: Option<String>) -> Result<(Kind, Option<String>), String> {
    let (spelled, inline) = match resource.split_once('/') {
        Some((k, n)) => (k, Some(n.to_string())),
        None => (resource, None),
    };
    let kind = match spelled {
        "pods" | "pod" | "po" => Kind::Pod,
        "services" | "service" | "svc" => Kind::Service,
        "endpoints" | "ep" => Kind::Endpoints,
        _ => {
            return Err(format!(
                "the lab's node has no resource type \"{}\"",
                crate::sanitize::line(spelled)
            ))
        }
    };
    let short = crate::sanitize::line(spelled);
    match (inline, name) {
        (Some(_), Some(_)) => Err(format!(
            "give the name once: `{short}/NAME` or `{short} NAME`"
        )),
        (Some(n), None) if n.is_empty() => Err(format!("`{short}/` needs a name after the slash")),
        (a, b) => Ok((kind, a.or(b))),
    }
}

/// [`resource`] for the verbs that only take Pods.
fn pod_resource(spelled: &str, name: Option<String>) -> Result<Option<String>, String> {
    match resource(spelled, name)? {
        (Kind::Pod, name) => Ok(name),
        _ => Err(format!(
            "this verb takes Pods only on the lab's node, not \"{}\"",
            crate::sanitize::line(spelled.split('/').next().unwrap_or(spelled))
        )),
    }
}

/// `logs pod/web` as kubectl takes it.
fn pod_name(arg: String) -> Result<String, String> {
    match arg.split_once('/') {
        Some((k, n)) => pod_resource(k, None).and_then(|_| {
            (!n.is_empty())
                .then(|| n.to_string())
                .ok_or_else(|| "`pod/` needs a name after the slash".into())
        }),
        None => Ok(arg),
    }
}

/// What a kubectl command line asks for.
#[derive(Debug)]
enum Plan {
    /// A `kubelab pod` command.
    Pod(PodArgs),
    /// `apply -f -`: the manifest on standard input.
    ApplyStdin,
    /// Help asked for: the text to print.
    Help(String),
}

/// kubectl's arguments as what they mean, or why not (the text to print).
fn parse(args: &[String]) -> Result<Plan, String> {
    let k = match Kubectl::try_parse_from(args) {
        Ok(k) => k,
        Err(e) => {
            use clap::error::ErrorKind as K;
            return match e.kind() {
                K::DisplayHelp | K::DisplayHelpOnMissingArgumentOrSubcommand => {
                    Ok(Plan::Help(e.render().to_string()))
                }
                K::InvalidSubcommand => Err(format!(
                    "unknown command \"{}\"",
                    crate::sanitize::line(args.first().map_or("", String::as_str))
                )),
                _ => Err(e
                    .render()
                    .to_string()
                    .lines()
                    .find(|l| l.starts_with("error:"))
                    .map(|l| l.trim_start_matches("error:").trim().to_string())
                    .unwrap_or_else(|| "cannot read the command line".into())),
            };
        }
    };
    let command = match k.verb {
        Verb::Apply { file } if file.as_os_str() == "-" => return Ok(Plan::ApplyStdin),
        Verb::Apply { file } => PodCommand::Apply { file },
        Verb::Get {
            resource: spelled,
            name,
            output,
            watch,
        } => {
            let (kind, name) = resource(&spelled, name)?;
            let output = match output.as_deref() {
                None => None,
                Some("wide") => Some(Output::Wide),
                Some("yaml") => Some(Output::Yaml),
                Some("json") => Some(Output::Json),
                Some(o) => {
                    return Err(format!(
                        "output format \"{}\" is not supported here: use wide, yaml or json",
                        crate::sanitize::line(o)
                    ))
                }
            };
            if watch && kind != Kind::Pod {
                return Err("-w (watch) is for pods only on the lab's node".into());
            }
            match kind {
                Kind::Pod => PodCommand::Get {
                    name,
                    output,
                    watch,
                },
                Kind::Service => PodCommand::GetSvc { name, output },
                Kind::Endpoints => PodCommand::GetEndpoints { name, output },
            }
        }
        Verb::Describe {
            resource: spelled,
            name,
        } => match resource(&spelled, name)? {
            (Kind::Pod, name) => PodCommand::Describe {
                name: name.ok_or("describe needs the Pod's name: kubectl describe pod NAME")?,
            },
            (Kind::Service, name) => PodCommand::DescribeSvc {
                name: name
                    .ok_or("describe needs the Service's name: kubectl describe svc NAME")?,
            },
            (Kind::Endpoints, _) => {
                return Err(
                    "describe endpoints is not supported here: use kubectl describe svc NAME (it lists the endpoints)".into(),
                )
            }
        },
        Verb::Logs {
            name,
            container,
            follow,
            previous,
            tail,
        } => PodCommand::Logs {
            name: pod_name(name)?,
            container,
            follow,
            previous,
            tail: tail.and_then(|t| usize::try_from(t).ok()),
        },
        Verb::Exec {
            name,
            container,
            stdin,
            tty,
            command,
        } => {
            if command.is_empty() {
                return Err("exec needs a command after `--`: kubectl exec NAME -- COMMAND".into());
            }
            // `-it` together (a terminal): `kubelab pod exec` says what
            // `-i` or `-t` alone lacks.
            PodCommand::Exec {
                name: pod_name(name)?,
                container,
                stdin,
                tty,
                command,
            }
        }
        Verb::Delete {
            resource: spelled,
            name,
            grace_period,
            now,
            force,
        } => {
            let name = match resource(&spelled, name)? {
                (Kind::Pod, name) => {
                    name.ok_or("delete needs the Pod's name: kubectl delete pod NAME")?
                }
                (Kind::Service, name) => {
                    return Ok(Plan::Pod(PodArgs {
                        state_dir: None,
                        namespace: k.namespace,
                        command: PodCommand::DeleteSvc {
                            name: name.ok_or(
                                "delete needs the Service's name: kubectl delete svc NAME",
                            )?,
                        },
                    }))
                }
                (Kind::Endpoints, _) => {
                    return Err("the node keeps a Service's endpoints itself: delete the Service (kubectl delete svc NAME) or its Pods".into())
                }
            };
            // kubectl: --now is a grace period of 1 s; --force with 0 deletes at once.
            let grace = match (grace_period, now, force) {
                (Some(g), _, _) if g >= 0 => Some(g as u64),
                (_, true, _) => Some(1),
                (_, _, true) => Some(0),
                _ => None,
            };
            PodCommand::Delete {
                name,
                grace_period: grace,
            }
        }
        Verb::Top { resource } => {
            pod_resource(&resource, None)?;
            PodCommand::Top {}
        }
    };
    Ok(Plan::Pod(PodArgs {
        state_dir: None,
        namespace: k.namespace,
        command,
    }))
}

/// `kubectl apply -f -`: the manifest from standard input (as after
/// `cat <<EOF |`), bounded as a manifest file is.
fn apply_stdin() -> anyhow::Result<i32> {
    use kubelab_node::api::{client::request, Reply, Request};
    use std::io::Read;
    let max = kubelab_node::manifest::MAX_FILE_BYTES;
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(max + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        anyhow::bail!("the manifest on standard input is larger than {max} bytes; split it");
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("the manifest on standard input is not UTF-8 text"))?;
    let state = super::node::state_dir(None);
    let req = Request::Apply {
        file: "<stdin>".into(),
        text,
    };
    match request(&state, &req).map_err(|e| anyhow::anyhow!("{e}"))? {
        Reply::Messages { lines } => {
            for l in lines {
                println!("{}", crate::sanitize::line(&l));
            }
            Ok(0)
        }
        Reply::Error { message } => Err(anyhow::anyhow!("{message}")),
        _ => Err(anyhow::anyhow!("unexpected answer from the node")),
    }
}

pub fn run(a: KubectlArgs) -> anyhow::Result<i32> {
    match parse(&a.args) {
        Ok(plan @ (Plan::Pod(_) | Plan::ApplyStdin)) => {
            let r = match plan {
                Plan::Pod(pod) => super::pod::run(pod),
                _ => apply_stdin(),
            };
            match r {
                Ok(code) => Ok(code),
                Err(e) => {
                    eprintln!("error: {}", crate::sanitize::text(&format!("{e:#}")));
                    Ok(1)
                }
            }
        }
        Ok(Plan::Help(help)) => {
            print!("{}", crate::sanitize::text(&help));
            Ok(0)
        }
        Err(why) => {
            eprintln!("error: {}\n{SUPPORTED}", crate::sanitize::text(&why));
            Ok(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(args: &[&str]) -> Result<PodArgs, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        match parse(&args)? {
            Plan::Pod(p) => Ok(p),
            Plan::Help(h) => Err(format!("help: {h}")),
            Plan::ApplyStdin => Err("stdin".into()),
        }
    }

    #[test]
    fn get_takes_every_spelling_of_pods() {
        for args in [
            &["get", "pods"][..],
            &["get", "pod"],
            &["get", "po"],
            &["get", "po", "-n", "default"],
        ] {
            let a = pod(args).unwrap();
            assert!(
                matches!(
                    a.command,
                    PodCommand::Get {
                        name: None,
                        output: None,
                        watch: false
                    }
                ),
                "{args:?}: {:?}",
                a.command
            );
            assert_eq!(a.namespace, "default");
        }
        for args in [
            &["get", "pod", "web", "-o", "json"][..],
            &["get", "pod/web", "-ojson"],
            &["-n", "team", "get", "pods", "web", "--output", "json"],
        ] {
            let a = pod(args).unwrap();
            assert!(
                matches!(a.command, PodCommand::Get { name: Some(ref n), output: Some(Output::Json), .. } if n == "web"),
                "{args:?}: {:?}",
                a.command
            );
        }
        assert_eq!(
            pod(&["-n", "team", "get", "pods"]).unwrap().namespace,
            "team"
        );
        let a = pod(&["get", "pods", "-w", "-o", "wide"]).unwrap();
        assert!(matches!(
            a.command,
            PodCommand::Get {
                watch: true,
                output: Some(Output::Wide),
                ..
            }
        ));
    }

    #[test]
    fn the_other_verbs_map_onto_kubelab_pod() {
        assert_eq!(pod(&["apply", "-f", "-"]).unwrap_err(), "stdin");
        let a = pod(&["apply", "-f", "web.yaml"]).unwrap();
        assert!(
            matches!(a.command, PodCommand::Apply { ref file } if file.as_os_str() == "web.yaml")
        );
        let a = pod(&["describe", "po", "web"]).unwrap();
        assert!(matches!(a.command, PodCommand::Describe { ref name } if name == "web"));
        let a = pod(&["describe", "pod/web"]).unwrap();
        assert!(matches!(a.command, PodCommand::Describe { ref name } if name == "web"));
        let a = pod(&[
            "logs",
            "pod/web",
            "-c",
            "side",
            "-f",
            "--previous",
            "--tail=5",
        ])
        .unwrap();
        assert!(matches!(
            a.command,
            PodCommand::Logs { ref name, container: Some(ref c), follow: true, previous: true, tail: Some(5) }
                if name == "web" && c == "side"
        ));
        let a = pod(&["logs", "web", "--tail", "-1"]).unwrap();
        assert!(matches!(a.command, PodCommand::Logs { tail: None, .. }));
        let a = pod(&["exec", "web", "-c", "app", "--", "cat", "/etc/hostname"]).unwrap();
        assert!(matches!(
            a.command,
            PodCommand::Exec { ref name, container: Some(_), ref command, stdin: false, tty: false }
                if name == "web" && command == &["cat", "/etc/hostname"]
        ));
        let a = pod(&["delete", "pod", "web"]).unwrap();
        assert!(matches!(
            a.command,
            PodCommand::Delete {
                grace_period: None,
                ..
            }
        ));
        let a = pod(&["delete", "pod/web", "--now"]).unwrap();
        assert!(matches!(
            a.command,
            PodCommand::Delete {
                grace_period: Some(1),
                ..
            }
        ));
        let a = pod(&["delete", "po", "web", "--grace-period=0", "--force"]).unwrap();
        assert!(matches!(
            a.command,
            PodCommand::Delete {
                grace_period: Some(0),
                ..
            }
        ));
        assert!(matches!(
            pod(&["top", "pod"]).unwrap().command,
            PodCommand::Top {}
        ));
        assert!(matches!(
            pod(&["top", "pods"]).unwrap().command,
            PodCommand::Top {}
        ));
    }

    #[test]
    fn services_and_endpoints_have_kubectls_spellings() {
        for args in [
            &["get", "svc"][..],
            &["get", "services"],
            &["get", "service"],
        ] {
            let a = pod(args).unwrap();
            assert!(
                matches!(
                    a.command,
                    PodCommand::GetSvc {
                        name: None,
                        output: None
                    }
                ),
                "{args:?}: {:?}",
                a.command
            );
        }
        let a = pod(&["get", "svc/web", "-o", "yaml"]).unwrap();
        assert!(
            matches!(a.command, PodCommand::GetSvc { name: Some(ref n), output: Some(Output::Yaml) } if n == "web")
        );
        let a = pod(&["-n", "team", "get", "ep", "web", "-o", "json"]).unwrap();
        assert_eq!(a.namespace, "team");
        assert!(
            matches!(a.command, PodCommand::GetEndpoints { name: Some(ref n), output: Some(Output::Json) } if n == "web")
        );
        assert!(matches!(
            pod(&["get", "endpoints"]).unwrap().command,
            PodCommand::GetEndpoints { name: None, .. }
        ));
        let a = pod(&["describe", "svc", "web"]).unwrap();
        assert!(matches!(a.command, PodCommand::DescribeSvc { ref name } if name == "web"));
        let a = pod(&["delete", "service/web"]).unwrap();
        assert!(matches!(a.command, PodCommand::DeleteSvc { ref name } if name == "web"));
        let e = pod(&["get", "svc", "-w"]).unwrap_err();
        assert!(e.contains("pods only"), "{e}");
        let e = pod(&["logs", "svc/web"]).unwrap_err();
        assert!(e.contains("Pods only"), "{e}");
        let e = pod(&["delete", "ep", "web"]).unwrap_err();
        assert!(e.contains("delete the Service"), "{e}");
        let e = pod(&["describe", "svc"]).unwrap_err();
        assert!(e.contains("the Service's name"), "{e}");
        assert!(SUPPORTED.contains("kubectl get services|service|svc"));
    }

    #[test]
    fn what_the_node_cannot_do_is_refused_clearly() {
        let e = pod(&["get", "deployments"]).unwrap_err();
        assert!(e.contains("no resource type \"deployments\""), "{e}");
        let e = pod(&["scale", "deploy/web"]).unwrap_err();
        assert!(e.contains("unknown command \"scale\""), "{e}");
        assert!(matches!(
            pod(&["exec", "-it", "web", "--", "sh"]).unwrap().command,
            PodCommand::Exec {
                stdin: true,
                tty: true,
                ..
            }
        ));
        let e = pod(&["exec", "web"]).unwrap_err();
        assert!(e.contains("needs a command"), "{e}");
        let e = pod(&["get", "pods", "-o", "jsonpath={.items}"]).unwrap_err();
        assert!(e.contains("use wide, yaml or json"), "{e}");
        let e = pod(&["describe", "pod"]).unwrap_err();
        assert!(e.contains("describe needs the Pod's name"), "{e}");
        let e = pod(&["get", "pods", "-A"]).unwrap_err();
        assert!(e.contains("-A"), "{e}");
        let e = pod(&["top", "node"]).unwrap_err();
        assert!(e.contains("\"node\""), "{e}");
        let e = pod(&["get", "pod/web", "other"]).unwrap_err();
        assert!(e.contains("once"), "{e}");
        assert!(pod(&["--help"]).unwrap_err().starts_with("help: "));
        assert!(SUPPORTED.contains("kubectl get pods|pod|po"));
    }
}
