//! Which push endpoints the server will send to. A subscription's endpoint is a URL the
//! browser gives us; unchecked, it would let anyone point the server at an internal address.

use crate::config::PushConfig;
use reqwest::Url;

#[derive(Clone, Debug)]
pub struct EndpointPolicy {
    services: Vec<String>,
    allow_http: bool,
}

impl EndpointPolicy {
    pub fn new(config: &PushConfig) -> Self {
        EndpointPolicy {
            services: config
                .services
                .iter()
                .map(|host| host.to_ascii_lowercase())
                .collect(),
            allow_http: config.allow_http,
        }
    }

    /// The endpoint, if it is a URL of a push service this platform sends to.
    pub fn check(&self, endpoint: &str) -> Result<Url, &'static str> {
        const REFUSED: &str = "This browser's push service is not one this platform sends to.";
        if endpoint.len() > 2048 {
            return Err("The push endpoint is too long.");
        }
        let url = Url::parse(endpoint).map_err(|_| "The push endpoint is not a URL.")?;
        let scheme_ok = match url.scheme() {
            "https" => true,
            "http" => self.allow_http,
            _ => false,
        };
        if !scheme_ok || !url.username().is_empty() || url.password().is_some() {
            return Err(REFUSED);
        }
        let host = url.host_str().ok_or(REFUSED)?.to_ascii_lowercase();
        if self.services.iter().any(|allowed| matches(allowed, &host)) {
            Ok(url)
        } else {
            Err(REFUSED)
        }
    }
}

/// `*.example.com` covers `a.example.com` (not `example.com`); anything else must be equal.
fn matches(allowed: &str, host: &str) -> bool {
    match allowed.strip_prefix("*.") {
        Some(domain) => host
            .strip_suffix(domain)
            .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.')),
        None => allowed == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_configured_push_services_over_https_are_accepted() {
        let policy = EndpointPolicy::new(&PushConfig::default());
        assert!(
            policy
                .check("https://fcm.googleapis.com/fcm/send/abc")
                .is_ok()
        );
        assert!(policy.check("https://web.push.apple.com/QGx").is_ok());
        assert!(
            policy
                .check("https://wns2-par02p.notify.windows.com/w/?token=x")
                .is_ok()
        );
        assert!(
            policy
                .check("http://fcm.googleapis.com/fcm/send/abc")
                .is_err()
        );
        assert!(
            policy
                .check("https://push.apple.com.evil.example/x")
                .is_err()
        );
        assert!(policy.check("https://evilpush.apple.com/x").is_err());
        assert!(policy.check("https://127.0.0.1/x").is_err());
        assert!(
            policy
                .check("https://user:pw@fcm.googleapis.com/x")
                .is_err()
        );
        assert!(policy.check("file:///etc/passwd").is_err());
        assert!(policy.check("not a url").is_err());
        let test = EndpointPolicy::new(&PushConfig {
            services: vec!["127.0.0.1".into()],
            allow_http: true,
            subject: None,
        });
        assert!(test.check("http://127.0.0.1:4567/push/1").is_ok());
        assert!(test.check("http://localhost:4567/push/1").is_err());
    }
}
