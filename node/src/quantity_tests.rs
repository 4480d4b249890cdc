use super::quantity::Quantity;

fn q(s: &str) -> Quantity {
    Quantity::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn cpu_examples_from_the_kubernetes_docs() {
    // https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#meaning-of-cpu
    // "0.1 is equivalent to the expression 100m"; "1 CPU unit = 1000m".
    assert_eq!(q("0.1").milli_value(), 100);
    assert_eq!(q("100m").milli_value(), 100);
    assert_eq!(q("0.5").milli_value(), 500);
    assert_eq!(q("1").milli_value(), 1000);
    assert_eq!(q("2").milli_value(), 2000);
    assert_eq!(q("250m").milli_value(), 250);
    // "CPU resource is always specified as an absolute amount": 1e3 = 1000 CPUs.
    assert_eq!(q("1e3").milli_value(), 1_000_000);
    // Finer than 1m rounds up (quantity.go: "0.1m will rounded up to 1m").
    assert_eq!(q("0.1m").milli_value(), 1);
    assert_eq!(q("1.0001").milli_value(), 1001);
}

#[test]
fn memory_examples_from_the_kubernetes_docs() {
    // https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#meaning-of-memory
    // "the following represent roughly the same value:
    //  128974848, 129e6, 129M, 128974848000m, 123Mi"
    assert_eq!(q("128974848").value(), 128_974_848);
    assert_eq!(q("129e6").value(), 129_000_000);
    assert_eq!(q("129M").value(), 129_000_000);
    assert_eq!(q("128974848000m").value(), 128_974_848);
    assert_eq!(q("123Mi").value(), 123 * 1024 * 1024);
    // "If you request 400m of memory, this is a request for 0.4 bytes";
    // Value() rounds up.
    assert_eq!(q("400m").value(), 1);
    assert_eq!(q("64Mi").value(), 67_108_864);
    assert_eq!(q("1Gi").value(), 1 << 30);
    assert_eq!(q("1G").value(), 1_000_000_000);
    assert_eq!(q("1.5Gi").value(), 3 << 29);
    assert_eq!(q("1k").value(), 1000);
    assert_eq!(q("1Ki").value(), 1024);
    assert_eq!(q("1Ei").value(), 1 << 60);
    assert_eq!(q("9E").value(), 9_000_000_000_000_000_000);
    assert_eq!(q("10E").value(), i64::MAX, "1e19 > 2^63-1: capped");
    assert_eq!(q("8Ei").value(), i64::MAX, "2^63 > 2^63-1: capped");
}

#[test]
fn number_forms() {
    assert_eq!(q("+1").value(), 1);
    assert_eq!(q(".5").milli_value(), 500);
    assert_eq!(q("5.").value(), 5);
    assert_eq!(
        q("1E3").value(),
        1000,
        "E followed by digits is an exponent"
    );
    assert_eq!(q("1e-3").milli_value(), 1);
    assert_eq!(q("1.5e+2").value(), 150);
    assert_eq!(q("0").value(), 0);
    assert!(q("0.000").is_zero());
    assert!(q("-1").is_negative());
    assert_eq!(q("-1").value(), -1);
    assert_eq!(q("-0.5").value(), 0, "ceil rounds toward +inf");
    assert_eq!(q("0001000").value(), 1000);
    assert_eq!(q("1e-50").value(), 1);
}

#[test]
fn not_quantities() {
    for bad in [
        "",
        "m",
        "Mi",
        "1.2.3",
        "1 Gi",
        "1gi",
        "1KB",
        "1e",
        "1e1.5",
        "abc",
        "--1",
        "1Mii",
        "0x10",
        "1234567890123456789012",
    ] {
        let e = Quantity::parse(bad).expect_err(bad);
        assert!(e.to_string().contains("not a Kubernetes quantity"), "{e}");
    }
    let long = "1".repeat(100);
    assert!(Quantity::parse(&long).is_err());
}
