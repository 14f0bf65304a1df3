//! The awsQuery protocol (STS): form-encoded requests, XML responses and errors.
use serde_json::{Map, Value as Json};

use crate::error::AwsError;

pub const STS_NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// A form-encoded body as a flat JSON object of strings (`Action` and `Version` included).
pub fn parse_form(body: &[u8]) -> Json {
    Json::Object(
        form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), Json::String(v.into_owned())))
            .collect::<Map<String, Json>>(),
    )
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn element(name: &str, v: &Json, out: &mut String) {
    match v {
        Json::Null => {}
        Json::Array(items) => {
            out.push_str(&format!("<{name}>"));
            for i in items {
                element("member", i, out);
            }
            out.push_str(&format!("</{name}>"));
        }
        Json::Object(m) => {
            out.push_str(&format!("<{name}>"));
            for (k, v) in m {
                element(k, v, out);
            }
            out.push_str(&format!("</{name}>"));
        }
        Json::String(s) => out.push_str(&format!("<{name}>{}</{name}>", escape(s))),
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

/// `<OpResponse><OpResult>…</OpResult><ResponseMetadata>…</ResponseMetadata></OpResponse>`.
pub fn success(operation: &str, result: &Json, request_id: &str) -> String {
    let mut out = format!("<{operation}Response xmlns=\"{STS_NAMESPACE}\">");
    element(&format!("{operation}Result"), result, &mut out);
    out.push_str(&format!(
        "<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{operation}Response>"
    ));
    out
}

pub fn error(e: &AwsError, request_id: &str) -> String {
    let kind = if e.status >= 500 {
        "Receiver"
    } else {
        "Sender"
    };
    format!(
        "<ErrorResponse xmlns=\"{STS_NAMESPACE}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
        escape(&e.code),
        escape(&e.message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn forms_in_xml_out() {
        let f = parse_form(
            b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&RoleSessionName=a+b",
        );
        assert_eq!(f["RoleArn"], "arn:aws:iam::1:role/r");
        assert_eq!(f["RoleSessionName"], "a b");
        let x = success(
            "GetCallerIdentity",
            &json!({"Arn": "a<b", "Account": "1", "Gone": null}),
            "r1",
        );
        assert_eq!(x, format!("<GetCallerIdentityResponse xmlns=\"{STS_NAMESPACE}\"><GetCallerIdentityResult><Arn>a&lt;b</Arn><Account>1</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"));
        let e = error(&AwsError::new(400, "ExpiredTokenException", "late"), "r2");
        assert!(e.contains(
            "<Type>Sender</Type><Code>ExpiredTokenException</Code><Message>late</Message>"
        ));
    }
}
