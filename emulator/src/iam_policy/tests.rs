//! The evaluator's table tests: decisions on the operator policy, condition operators, globs,
//! the grammar.
use super::*;
use serde_json::json;

const NODE: &str = "arn:aws:ssm:us-east-1:123456789012:managed-instance/mi-0123456789abcdef0";
const DOC: &str = "arn:aws:ssm:us-east-1:123456789012:document/hastack-web-Shell";

/// The provider's operator policy, in short: sessions on nodes tagged `hastack:group=web`
/// with one document.
fn operator() -> Policy {
    Policy::parse(
        &json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Nodes", "Effect": "Allow", "Action": "ssm:StartSession",
             "Resource": ["arn:aws:ssm:us-east-1:123456789012:managed-instance/*"],
             "Condition": {"StringLike": {"ssm:resourceTag/hastack:group": ["web"]},
                           "BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"}}},
            {"Sid": "Doc", "Effect": "Allow", "Action": "ssm:StartSession", "Resource": DOC,
             "Condition": {"BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"}}},
            {"Effect": "Allow", "Action": "ssm:Describe*", "Resource": "*"},
            {"Effect": "Deny", "Action": "ssm:*", "Resource": "*",
             "Condition": {"StringEquals": {"ssm:resourceTag/quarantine": "yes"}}},
            {"Effect": "Allow", "Action": "kms:GenerateDataKey", "Resource": "*",
             "Condition": {"NumericLessThan": {"kms:Whatever": "3"}}},
        ]})
        .to_string(),
    )
    .unwrap()
}

fn ctx(pairs: &[(&str, &str)]) -> Context {
    pairs.iter().fold(Context::default(), |c, (k, v)| {
        c.with(k, v.split(',').map(str::to_string).collect())
    })
}

/// Name, action, resource, context (key, comma-separated values), decision.
type DecisionCase = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    Decision,
);

/// Name, operator, the request's values (None: absent), the policy's values, result.
type OperatorCase = (
    &'static str,
    &'static str,
    Option<&'static [&'static str]>,
    &'static [&'static str],
    bool,
);

#[test]
fn session_policy_decisions() {
    use Decision::*;
    let p = operator();
    let cases: &[DecisionCase] = &[
        (
            "tag match",
            "ssm:StartSession",
            NODE,
            &[("ssm:resourceTag/hastack:group", "web")],
            Allow,
        ),
        (
            "tag key case-insensitive",
            "ssm:StartSession",
            NODE,
            &[("SSM:ResourceTag/Hastack:Group", "web")],
            Allow,
        ),
        (
            "tag mismatch",
            "ssm:StartSession",
            NODE,
            &[("ssm:resourceTag/hastack:group", "db")],
            ImplicitDeny,
        ),
        (
            "tag value case-sensitive",
            "ssm:StartSession",
            NODE,
            &[("ssm:resourceTag/hastack:group", "Web")],
            ImplicitDeny,
        ),
        (
            "one of several values",
            "ssm:StartSession",
            NODE,
            &[("ssm:resourceTag/hastack:group", "db,web")],
            Allow,
        ),
        (
            "missing tag",
            "ssm:StartSession",
            NODE,
            &[("ssm:resourceTag/app", "web")],
            ImplicitDeny,
        ),
        (
            "document check absent",
            "ssm:StartSession",
            NODE,
            &[("ssm:resourceTag/hastack:group", "web")],
            Allow,
        ),
        (
            "document check true",
            "ssm:StartSession",
            NODE,
            &[
                ("ssm:resourceTag/hastack:group", "web"),
                ("ssm:SessionDocumentAccessCheck", "true"),
            ],
            Allow,
        ),
        (
            "document check false",
            "ssm:StartSession",
            NODE,
            &[
                ("ssm:resourceTag/hastack:group", "web"),
                ("ssm:SessionDocumentAccessCheck", "false"),
            ],
            ImplicitDeny,
        ),
        (
            "the document",
            "ssm:StartSession",
            DOC,
            &[("ssm:SessionDocumentAccessCheck", "true")],
            Allow,
        ),
        (
            "another document",
            "ssm:StartSession",
            "arn:aws:ssm:us-east-1:123456789012:document/Other",
            &[("ssm:SessionDocumentAccessCheck", "true")],
            ImplicitDeny,
        ),
        (
            "action case-insensitive",
            "SSM:startsession",
            DOC,
            &[],
            Allow,
        ),
        ("action wildcard", "ssm:DescribeSessions", NODE, &[], Allow),
        (
            "action not listed",
            "ssm:TerminateSession",
            NODE,
            &[],
            ImplicitDeny,
        ),
        (
            "explicit deny wins",
            "ssm:StartSession",
            NODE,
            &[
                ("ssm:resourceTag/hastack:group", "web"),
                ("ssm:resourceTag/quarantine", "yes"),
            ],
            ExplicitDeny,
        ),
        (
            "unknown operator never matches",
            "kms:GenerateDataKey",
            "k",
            &[("kms:Whatever", "1")],
            ImplicitDeny,
        ),
    ];
    for (name, action, resource, pairs, want) in cases {
        let c = ctx(pairs);
        let r = Request {
            action,
            resource,
            context: &c,
        };
        assert_eq!(p.evaluate(&r), *want, "{name}");
    }
}

#[test]
fn condition_operators() {
    let w = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let cases: &[OperatorCase] = &[
        (
            "StringEquals",
            "StringEquals",
            Some(&["web"]),
            &["web", "api"],
            true,
        ),
        (
            "StringEquals other",
            "StringEquals",
            Some(&["db"]),
            &["web"],
            false,
        ),
        (
            "StringEquals missing key",
            "StringEquals",
            None,
            &["web"],
            false,
        ),
        (
            "StringLike wildcard value *",
            "StringLike",
            Some(&["anything"]),
            &["*"],
            true,
        ),
        (
            "StringLike ?",
            "StringLike",
            Some(&["web-1"]),
            &["web-?"],
            true,
        ),
        ("StringLike missing key", "StringLike", None, &["*"], false),
        (
            "StringLikeIfExists missing key",
            "StringLikeIfExists",
            None,
            &["web"],
            true,
        ),
        (
            "StringLikeIfExists present",
            "StringLikeIfExists",
            Some(&["db"]),
            &["web"],
            false,
        ),
        (
            "StringNotEquals other",
            "StringNotEquals",
            Some(&["db"]),
            &["web"],
            true,
        ),
        (
            "StringNotEquals same",
            "StringNotEquals",
            Some(&["web"]),
            &["web"],
            false,
        ),
        (
            "StringNotEquals missing key",
            "StringNotEquals",
            None,
            &["web"],
            true,
        ),
        (
            "StringNotLike",
            "StringNotLike",
            Some(&["web-1"]),
            &["web-*"],
            false,
        ),
        ("Bool", "Bool", Some(&["TRUE"]), &["true"], true),
        ("Bool missing key", "Bool", None, &["true"], false),
        ("BoolIfExists absent", "BoolIfExists", None, &["true"], true),
        (
            "BoolIfExists present true",
            "BoolIfExists",
            Some(&["true"]),
            &["true"],
            true,
        ),
        (
            "BoolIfExists present false",
            "BoolIfExists",
            Some(&["false"]),
            &["true"],
            false,
        ),
        (
            "ForAnyValue",
            "ForAnyValue:StringEquals",
            Some(&["a", "b"]),
            &["b"],
            true,
        ),
        (
            "ForAnyValue missing key",
            "ForAnyValue:StringEquals",
            None,
            &["b"],
            false,
        ),
        (
            "ForAllValues",
            "ForAllValues:StringEquals",
            Some(&["a", "b"]),
            &["b"],
            false,
        ),
        (
            "ForAllValues subset",
            "ForAllValues:StringLike",
            Some(&["a1", "a2"]),
            &["a*"],
            true,
        ),
        (
            "ForAllValues missing key",
            "ForAllValues:StringEquals",
            None,
            &["b"],
            true,
        ),
    ];
    for (name, op, values, wanted, want) in cases {
        let op = Operator::parse(op).unwrap_or_else(|| panic!("{name}: operator"));
        let values = values.map(w);
        assert_eq!(op.holds(values.as_deref(), &w(wanted)), *want, "{name}");
    }
    for unknown in [
        "NumericLessThan",
        "ArnLike",
        "Null",
        "Sometimes:StringEquals",
        "stringequals",
    ] {
        assert_eq!(Operator::parse(unknown), None, "{unknown}");
    }
}

#[test]
fn globs() {
    let cases = [
        ("*", "", false, true),
        ("arn:*:mi-?", "arn:aws:ssm:mi-1", false, true),
        ("a*b*c", "aXbYbZc", false, true),
        ("a*b", "aXbYc", false, false),
        ("ssm:Start*", "SSM:startsession", true, true),
        ("ssm:Start*", "SSM:startsession", false, false),
        ("", "x", false, false),
    ];
    for (p, t, ic, want) in cases {
        assert_eq!(glob(p, t, ic), want, "{p} ~ {t}");
    }
}

#[test]
fn grammar() {
    let cases = [
        ("not json", "{", Err(PolicyError::NotJson)),
        (
            "no statement",
            r#"{"Version":"2012-10-17"}"#,
            Err(PolicyError::Syntax),
        ),
        (
            "bad effect",
            r#"{"Statement":{"Effect":"Maybe","Action":"*","Resource":"*"}}"#,
            Err(PolicyError::Syntax),
        ),
        (
            "unknown element",
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Principal":"*"}}"#,
            Err(PolicyError::Syntax),
        ),
        (
            "no action",
            r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#,
            Err(PolicyError::NoActions),
        ),
        (
            "no resource",
            r#"{"Statement":{"Effect":"Allow","Action":"*"}}"#,
            Err(PolicyError::NoResources),
        ),
        (
            "both",
            r#"{"Statement":{"Effect":"Allow","Action":"*","NotAction":"s3:*","Resource":"*"}}"#,
            Err(PolicyError::Syntax),
        ),
        (
            "one object",
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
            Ok(1),
        ),
        (
            "list, bool and number values",
            r#"{"Statement":[{"Effect":"Deny","NotAction":"s3:*","NotResource":["a","b"],"Condition":{"Bool":{"aws:SecureTransport":false},"StringEquals":{"k":[1,"2"]}}}]}"#,
            Ok(1),
        ),
    ];
    for (name, text, want) in cases {
        assert_eq!(
            Policy::parse(text).map(|p| p.statement.len()),
            want,
            "{name}"
        );
    }
    let p = Policy::parse(r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":[1,true]}}}}"#).unwrap();
    assert_eq!(
        p.statement[0].condition["StringEquals"]["k"].0,
        ["1", "true"]
    );
    let p = Policy::parse(
        r#"{"Statement":{"Effect":"Allow","NotAction":"s3:*","NotResource":"arn:x"}}"#,
    )
    .unwrap();
    let c = Context::default();
    let r = |action, resource| Request {
        action,
        resource,
        context: &c,
    };
    assert_eq!(p.evaluate(&r("ssm:StartSession", "arn:y")), Decision::Allow);
    assert_eq!(
        p.evaluate(&r("s3:GetObject", "arn:y")),
        Decision::ImplicitDeny
    );
    assert_eq!(
        p.evaluate(&r("ssm:StartSession", "arn:x")),
        Decision::ImplicitDeny
    );
}
