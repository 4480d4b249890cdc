use super::chain_names::{endpoint_chain, port_proto_hash, service_chain, service_port_name};
use super::endpoints::{endpoints, plan};
use super::manifest::parse_str;
use super::rules::render;
use super::*;
use k8s_openapi::api::core::v1::{Pod, PodCondition, PodStatus};
use std::path::Path;

#[test]
fn chain_names_are_kube_proxys() {
    // Names any kubeadm cluster shows in `iptables -t nat -L`.
    assert_eq!(
        service_chain(&service_port_name("default", "kubernetes", "https"), "TCP"),
        "KUBE-SVC-NPX46M4PTMTKRN6Y"
    );
    assert_eq!(
        service_chain(&service_port_name("kube-system", "kube-dns", "dns"), "UDP"),
        "KUBE-SVC-TCOU7JCQXEZGVUNU"
    );
    assert_eq!(
        port_proto_hash("kube-system/kube-dns:dns-tcp", "tcp"),
        "ERIFXISQEP7F7OF4"
    );
    assert_eq!(service_port_name("default", "web", ""), "default/web");
    let a = endpoint_chain("default/web", "TCP", "10.88.0.2:8080");
    let b = endpoint_chain("default/web", "TCP", "10.88.0.3:8080");
    assert!(a.starts_with("KUBE-SEP-") && a.len() == 25, "{a}");
    assert_ne!(a, b);
    assert_eq!(a, endpoint_chain("default/web", "tcp", "10.88.0.2:8080"));
}

fn parse(text: &str) -> Result<Vec<manifest::ManifestService>, String> {
    parse_str(text, Path::new("svc.yaml")).map_err(|e| e.to_string())
}

const WEB: &str = "apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: http
";

#[test]
fn a_service_is_defaulted_as_the_api_server_does() {
    let s = parse(WEB).unwrap().remove(0).service;
    let spec = s.spec.unwrap();
    assert_eq!(s.metadata.namespace.as_deref(), Some("default"));
    assert_eq!(spec.type_.as_deref(), Some("ClusterIP"));
    assert_eq!(spec.cluster_ip, None);
    let p = &spec.ports.unwrap()[0];
    assert_eq!(p.protocol.as_deref(), Some("TCP"));
    // Other kinds are left to the Pod parser.
    assert!(parse("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n")
        .unwrap()
        .is_empty());
}

#[test]
fn bad_services_name_the_line_and_the_fix() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "  name: web\n",
            "  name: 1web\n",
            "svc.yaml:4:3: metadata.name: Invalid value: \"1web\"",
        ),
        (
            "spec:\n",
            "spec:\n  type: NodePort\n",
            "svc.yaml:6:9: spec.type must be one of",
        ),
        (
            "    port: 80\n",
            "    port: 70000\n",
            "spec.ports[0].port: Invalid value: 70000",
        ),
        (
            "    targetPort: http\n",
            "    targetPort: Http_Port\n",
            "spec.ports[0].targetPort: Invalid value",
        ),
        (
            "  - name: http\n",
            "  - name: http\n    protocol: SCTP\n",
            "protocol must be one of",
        ),
        (
            "  selector:\n",
            "  clusterIP: 10.1.2.x\n  selector:\n",
            "spec.clusterIP: Invalid value: \"10.1.2.x\"",
        ),
        (
            "  selector:\n",
            "  externalIPs: [1.2.3.4]\n  selector:\n",
            "spec.externalIPs",
        ),
        (
            "  ports:\n  - name: http\n    port: 80\n    targetPort: http\n",
            "  ports: []\n",
            "spec.ports: Required value",
        ),
        (
            "    targetPort: http\n",
            "    targetPort: http\n  - port: 81\n",
            "spec.ports[1].name: Required value",
        ),
    ];
    for (from, to, want) in cases {
        let text = WEB.replacen(from, to, 1);
        assert_ne!(text, WEB, "{from:?} not in the manifest");
        let err = parse(&text).expect_err(&text);
        assert!(err.contains(want), "{text}\n→ {err}\nwanted {want:?}");
    }
    // Headless needs no ports.
    let headless = WEB.replacen(
        "  ports:\n  - name: http\n    port: 80\n    targetPort: http\n",
        "  clusterIP: None\n",
        1,
    );
    assert!(parse(&headless).is_ok());
    let huge = format!("{WEB}# {}\n", "x".repeat(1 << 20));
    assert!(parse(&huge).unwrap_err().contains("larger than"));
    let many: String = (0..40)
        .map(|i| format!("  - {{name: p{i}, port: {}}}\n", 1000 + i))
        .collect();
    let err = parse(&format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: w}}\nspec:\n  ports:\n{many}"
    ))
    .unwrap_err();
    assert!(err.contains("must have at most 32 items"), "{err}");
}

#[test]
fn the_service_cidr_allocates_and_refuses() {
    let c = ServiceCidr::parse(DEFAULT_SERVICE_CIDR).unwrap();
    assert_eq!(c.dns_ip(), Ipv4Addr::new(10, 96, 0, 10));
    let mut used = BTreeSet::new();
    for i in 1..=10 {
        let ip = c.allocate(&used).unwrap();
        used.insert(ip);
        assert_ne!(ip, c.dns_ip(), "{i}");
    }
    assert_eq!(used.last(), Some(&Ipv4Addr::new(10, 96, 0, 11)));
    assert!(c.refuse(Ipv4Addr::new(10, 97, 0, 1)).is_some());
    assert!(c.refuse(Ipv4Addr::new(10, 96, 0, 0)).is_some());
    assert!(c.refuse(Ipv4Addr::new(10, 96, 0, 10)).is_some());
    assert!(c.refuse(Ipv4Addr::new(10, 96, 3, 7)).is_none());
    for bad in ["10.96.0.0", "10.96.0.1/16", "10.96.0.0/30", "x/16"] {
        assert!(ServiceCidr::parse(bad).is_err(), "{bad}");
    }
    let tiny = ServiceCidr::parse("10.0.0.0/28").unwrap();
    let mut used = BTreeSet::new();
    while let Some(ip) = tiny.allocate(&used) {
        used.insert(ip);
    }
    assert_eq!(used.len(), 13, "16 minus network, broadcast and DNS");
}

fn pod(name: &str, ip: &str, app: &str, ready: bool) -> Pod {
    let text = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: default\n  labels: {{app: {app}}}\nspec:\n  containers:\n  - name: c\n    image: busybox\n    ports: [{{name: http, containerPort: 8080}}]\n"
    );
    let mut p: Pod = serde_json::from_value(
        crate::manifest::walk::walk(
            &crate::manifest::yaml::parse_documents(&text).unwrap()[0]
                .clone()
                .unwrap(),
            crate::manifest::schema::POD,
        )
        .unwrap()
        .0,
    )
    .unwrap();
    p.status = Some(PodStatus {
        pod_ip: Some(ip.into()),
        phase: Some("Running".into()),
        conditions: Some(vec![PodCondition {
            type_: "Ready".into(),
            status: if ready { "True" } else { "False" }.into(),
            ..Default::default()
        }]),
        ..Default::default()
    });
    p
}

#[test]
fn endpoints_are_the_ready_selected_pods_and_rules_spread_over_them() {
    let mut svc = parse(WEB).unwrap().remove(0).service;
    svc.spec.as_mut().unwrap().cluster_ip = Some("10.96.0.1".into());
    let pods = vec![
        pod("a", "10.88.0.2", "web", true),
        pod("b", "10.88.0.3", "web", true),
        pod("c", "10.88.0.4", "web", true),
        pod("slow", "10.88.0.5", "web", false),
        pod("other", "10.88.0.6", "db", true),
    ];
    let ep = endpoints(&svc, &pods, "n1");
    let subsets = ep.subsets.as_ref().unwrap();
    assert_eq!(subsets.len(), 1);
    let ready: Vec<&str> = subsets[0]
        .addresses
        .iter()
        .flatten()
        .map(|a| a.ip.as_str())
        .collect();
    assert_eq!(ready, ["10.88.0.2", "10.88.0.3", "10.88.0.4"]);
    let not_ready: Vec<&str> = subsets[0]
        .not_ready_addresses
        .iter()
        .flatten()
        .map(|a| a.ip.as_str())
        .collect();
    assert_eq!(not_ready, ["10.88.0.5"]);
    assert_eq!(
        subsets[0].ports.as_ref().unwrap()[0].port,
        8080,
        "named targetPort"
    );

    let plan = plan(&[(svc, ep)]);
    let r = render(&plan, true, &BTreeSet::new());
    let t = &r.text;
    assert!(t.starts_with("*nat\n:KUBE-SERVICES - [0:0]\n"), "{t}");
    assert!(t.ends_with("COMMIT\n"));
    assert!(t.contains(
        "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"
    ));
    let svc_chain = service_chain("default/web:http", "TCP");
    assert!(t.contains(&format!("-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment \"default/web:http cluster IP\" -m tcp --dport 80 -j {svc_chain}")), "{t}");
    let probs: Vec<&str> = t
        .lines()
        .filter(|l| l.starts_with(&format!("-A {svc_chain} ")) && l.contains("-j KUBE-SEP-"))
        .map(|l| {
            l.split("--probability ")
                .nth(1)
                .map_or("last", |r| r.split(' ').next().unwrap())
        })
        .collect();
    assert_eq!(probs, ["0.3333333333", "0.5000000000", "last"]);
    assert!(!t.contains("10.88.0.5"), "a not-ready Pod gets no traffic");
    let sep = endpoint_chain("default/web:http", "TCP", "10.88.0.3:8080");
    assert!(t.contains(&format!(
        "-A {sep} -s 10.88.0.3/32 -m comment --comment \"default/web:http\" -j KUBE-MARK-MASQ"
    )));
    assert!(t.contains(&format!("-A {sep} -p tcp -m comment --comment \"default/web:http\" -m tcp -j DNAT --to-destination 10.88.0.3:8080")));
    assert_eq!(r.chains.len(), 4);

    // A later sync: no jumps again; a gone endpoint's chain is deleted.
    let mut fewer = plan.clone();
    fewer.services[0].ports[0].backends.remove(1);
    let r2 = render(&fewer, false, &r.chains);
    assert!(!r2.text.contains("PREROUTING"));
    assert!(r2.text.contains(&format!(":{sep} - [0:0]\n")));
    assert!(r2.text.contains(&format!("-X {sep}\n")));
    assert!(!r2.chains.contains(&sep));
}

#[test]
fn dns_records_and_resolv_conf() {
    let mut headless = parse(WEB).unwrap().remove(0).service;
    headless.metadata.name = Some("db".into());
    headless.spec.as_mut().unwrap().cluster_ip = Some("None".into());
    let mut web = parse(WEB).unwrap().remove(0).service;
    web.spec.as_mut().unwrap().cluster_ip = Some("10.96.0.1".into());
    let pods = vec![
        pod("a", "10.88.0.2", "web", true),
        pod("b", "10.88.0.3", "web", false),
    ];
    let plan = plan(&[
        (web.clone(), endpoints(&web, &pods, "n")),
        (headless.clone(), endpoints(&headless, &pods, "n")),
    ]);
    let hosts = dns::hosts_file(&plan);
    assert!(hosts.contains("10.96.0.1\tweb.default.svc.cluster.local\n"));
    assert!(hosts.contains("10.88.0.2\tdb.default.svc.cluster.local\n"));
    assert!(!hosts.contains("10.88.0.3"), "{hosts}");
    let r = render(&plan, false, &BTreeSet::new());
    assert!(!r.text.contains("db"), "headless: no rules\n{}", r.text);
    assert_eq!(
        dns::resolv_conf("prod", Ipv4Addr::new(10, 96, 0, 10)),
        "search prod.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"
    );
}

#[test]
fn docs_list_every_supported_service_field() {
    let doc_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/pods.md");
    let doc = std::fs::read_to_string(&doc_path).unwrap();
    let table = crate::manifest::schema::fields_markdown_of(manifest::SERVICE);
    let (begin, end) = (
        "<!-- service-fields:begin (generated from node/src/service/manifest.rs) -->\n",
        "<!-- service-fields:end -->",
    );
    let (Some(b), Some(e)) = (doc.find(begin), doc.find(end)) else {
        panic!("docs/pods.md lacks the generated Service fields block markers");
    };
    let current = &doc[b + begin.len()..e];
    if current != table {
        if std::env::var_os("KUBELAB_BLESS").is_some() {
            let new = format!("{}{begin}{table}{}", &doc[..b], &doc[e..]);
            std::fs::write(&doc_path, new).unwrap();
            return;
        }
        panic!("docs/pods.md's Service field table is out of date; run with KUBELAB_BLESS=1 to regenerate it");
    }
}

#[test]
fn tables_read_as_kubectls() {
    let mut web = parse(WEB).unwrap().remove(0).service;
    web.spec.as_mut().unwrap().cluster_ip = Some("10.96.0.1".into());
    let pods: Vec<Pod> = (2..7)
        .map(|i| pod(&format!("p{i}"), &format!("10.88.0.{i}"), "web", true))
        .collect();
    let ep = endpoints(&web, &pods, "n");
    let now = k8s_openapi::chrono::DateTime::from_timestamp(1000, 0).unwrap();
    assert_eq!(
        printer::services_table(std::slice::from_ref(&web), true, now),
        "NAME   TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE         SELECTOR\n\
         web    ClusterIP   10.96.0.1    <none>        80/TCP    <unknown>   app=web\n"
    );
    assert_eq!(
        printer::endpoints_table(std::slice::from_ref(&ep), &[web.clone()], now),
        "NAME   ENDPOINTS                                                  AGE\n\
         web    10.88.0.2:8080,10.88.0.3:8080,10.88.0.4:8080 + 2 more...   <unknown>\n"
    );
    let d = printer::describe(&web, Some(&ep));
    assert!(d.contains("TargetPort:        http/TCP\n"), "{d}");
    assert!(d.contains("Endpoints:         10.88.0.2:8080,10.88.0.3:8080,10.88.0.4:8080,10.88.0.5:8080,10.88.0.6:8080\n"), "{d}");
}
