//! The client IP: which header carries it in this deployment
//! (`EDGEGUARD_CLIENT_IP`), which addresses can be trusted, and how an
//! address becomes a key (IPv6 by /64).

use std::net::IpAddr;

use serde::Deserialize;

use super::decision::Facts;
use super::misconfigured;
use super::rules::LimitsConfig;
use crate::json_read::{variant, ReadError, ReadJson};
use crate::Denial;
use crate::sorted_map::SortedMap;
use serde_json::Value;

/// Where the client IP is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum IpSource {
    /// `X-Forwarded-For`, counted from the right.
    #[serde(rename = "x-forwarded-for")]
    XForwardedFor,
    /// `CF-Connecting-IP`.
    #[serde(rename = "cf-connecting-ip")]
    CfConnectingIp,
    /// `X-Real-IP`.
    #[serde(rename = "x-real-ip")]
    XRealIp,
    /// The connection's peer address.
    #[serde(rename = "remote_addr")]
    RemoteAddr,
}

impl ReadJson for IpSource {
    fn read(v: &Value) -> Result<Self, ReadError> {
        use IpSource::*;
        variant(
            v,
            &[
                ("x-forwarded-for", XForwardedFor),
                ("cf-connecting-ip", CfConnectingIp),
                ("x-real-ip", XRealIp),
                ("remote_addr", RemoteAddr),
            ],
        )
    }
}

impl LimitsConfig {
    /// Applies the deployment's `EDGEGUARD_CLIENT_IP` (it wins over the
    /// policy's `client_ip`); without either, the platform default.
    pub fn with_env(mut self, env: &SortedMap<String, String>) -> Result<Self, Denial> {
        let raw = env
            .get("EDGEGUARD_CLIENT_IP")
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty());
        match raw {
            Some(v) => {
                let (name, hops) = match v.split_once(':') {
                    Some((n, h)) => (n, Some(h)),
                    None => (v.as_str(), None),
                };
                let source = match name {
                    "x-forwarded-for" => IpSource::XForwardedFor,
                    "cf-connecting-ip" => IpSource::CfConnectingIp,
                    "x-real-ip" => IpSource::XRealIp,
                    "remote_addr" => IpSource::RemoteAddr,
                    _ => return Err(misconfigured(
                        "EDGEGUARD_CLIENT_IP must be x-forwarded-for[:hops], cf-connecting-ip, x-real-ip or remote_addr",
                    )),
                };
                let hops = match (source, hops) {
                    (_, None) => 1,
                    (IpSource::XForwardedFor, Some(h)) => match h.parse::<u8>() {
                        Ok(n) if (1..=16).contains(&n) => n,
                        _ => {
                            return Err(misconfigured(
                                "EDGEGUARD_CLIENT_IP: x-forwarded-for hops must be 1..=16",
                            ))
                        }
                    },
                    (_, Some(_)) => {
                        return Err(misconfigured(
                            "EDGEGUARD_CLIENT_IP: hops apply to x-forwarded-for only",
                        ))
                    }
                };
                self.ip_source = source;
                self.trusted_hops = hops;
                self.ip_explicit = true;
            }
            None if !self.ip_explicit => {
                let hosted = crate::app_env::PLATFORM_MARKERS
                    .iter()
                    .any(|m| env.get(*m).is_some_and(|v| !v.trim().is_empty()));
                if hosted {
                    self.ip_source = IpSource::CfConnectingIp;
                    self.trusted_hops = 1;
                }
            }
            None => {}
        }
        Ok(self)
    }

    /// The configured source as `EDGEGUARD_CLIENT_IP` spells it.
    pub fn ip_source_name(&self) -> String {
        match self.ip_source {
            IpSource::XForwardedFor => format!("x-forwarded-for:{}", self.trusted_hops),
            IpSource::CfConnectingIp => "cf-connecting-ip".into(),
            IpSource::XRealIp => "x-real-ip".into(),
            IpSource::RemoteAddr => "remote_addr".into(),
        }
    }

    /// The header the client IP is expected in (`None` for `remote_addr`).
    pub fn ip_header(&self) -> Option<&'static str> {
        match self.ip_source {
            IpSource::XForwardedFor => Some("x-forwarded-for"),
            IpSource::CfConnectingIp => Some("cf-connecting-ip"),
            IpSource::XRealIp => Some("x-real-ip"),
            IpSource::RemoteAddr => None,
        }
    }

    /// The client IP key from the request facts, per the configured source;
    /// `None` when no trustworthy address is there (see the `ratelimit` module docs).
    pub fn client_ip(&self, facts: &Facts) -> Option<String> {
        let header = |name: &str| {
            facts
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let public = |s: &str| s.parse::<IpAddr>().ok().filter(is_public_ip).and_then(|_| ip_key(s));
        match self.ip_source {
            IpSource::XForwardedFor => header("x-forwarded-for").and_then(|v| {
                let hops: Vec<&str> = v.split(',').map(str::trim).collect();
                hops.len()
                    .checked_sub(usize::from(self.trusted_hops))
                    .and_then(|i| hops.get(i).copied())
                    .and_then(public)
            }),
            IpSource::CfConnectingIp => header("cf-connecting-ip").and_then(|v| public(v.trim())),
            IpSource::XRealIp => header("x-real-ip").and_then(|v| public(v.trim())),
            IpSource::RemoteAddr => facts
                .remote_addr
                .as_deref()
                .map(str::trim)
                .filter(|a| a.parse::<IpAddr>().is_ok_and(|ip| !ip.is_unspecified()))
                .and_then(ip_key),
        }
    }
}

/// Whether an address can be a client on the internet: not private,
/// loopback, link-local, shared (100.64/10), unspecified, broadcast,
/// multicast, reserved or unique-local. (The documentation ranges count as
/// public: they never reach a server, and examples and tests use them.)
pub fn is_public_ip(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_ip(&IpAddr::V4(v4));
            }
            let seg = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80)
        }
    }
}

/// Normalises an IP address for keying: IPv4 as is, IPv6 by its /64 prefix.
pub fn ip_key(s: &str) -> Option<String> {
    match s.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => Some(v4.to_string()),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return Some(v4.to_string());
            }
            let seg = v6.segments();
            Some(format!(
                "{:x}:{:x}:{:x}:{:x}::/64",
                seg[0], seg[1], seg[2], seg[3]
            ))
        }
    }
}
