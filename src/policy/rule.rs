//! Denylist rules (stub: filled in by the policy stage).

use crate::decode::Mac;
use crate::intel::Asn;
use std::net::IpAddr;
use std::path::Path;

/// What a rule's entity is, in Clean Path terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// An untrusted equipment vendor (Clean Path), e.g. Huawei, ZTE.
    UntrustedVendor,
    /// An untrusted PRC carrier (Clean Carrier), e.g. China Telecom.
    UntrustedCarrier,
    /// An entity on the FCC Covered List.
    CoveredList,
}

/// How sure the match between rule value and entity is (technical, not legal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Ambiguous or informational: warns, does not fail by default.
    Low,
    /// Subsidiary, name-matched or generic.
    Medium,
    /// Named entity, verified name or number.
    High,
}

/// What a rule's value is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// An AS number (`AS4134`).
    Asn,
    /// A regex over AS organisation names.
    OrgRegex,
    /// An IP prefix in CIDR notation.
    Prefix,
    /// A regex over IEEE registrant names.
    OuiOrgRegex,
    /// A MAC prefix (`00:e0:fc/24`).
    MacPrefix,
    /// An SNMP private enterprise number.
    SnmpPen,
    /// A regex over SSH identification strings.
    SshBannerRegex,
    /// A regex over HTTP `Server` header values.
    HttpServerRegex,
    /// A regex over LLDP system descriptions.
    LldpSysdescrRegex,
    /// A regex over TLS certificate issuers.
    TlsIssuerRegex,
}

/// Index of a rule within its [`Denylist`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(pub u32);

/// One denylist rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// What the value matches.
    pub kind: RuleKind,
    /// The value as written in the file.
    pub value: String,
    /// The entity the rule names (e.g. `Huawei`).
    pub entity: String,
    /// Clean Path category.
    pub category: Category,
    /// Match confidence.
    pub confidence: Confidence,
    /// Where the fact comes from.
    pub source: String,
    /// When the listing took effect (`YYYY-MM-DD`).
    pub date: String,
    /// Free-text note.
    pub note: String,
    /// File the rule was read from.
    pub file: String,
    /// 1-based line in that file.
    pub line: usize,
}

/// A malformed rule file.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// File path.
        path: String,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A line is malformed.
    #[error("{file}:{line}: {what}")]
    Line {
        /// File name.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        what: String,
    },
}

/// A set of rules with indexes for the hop kinds the verdict engine asks about.
#[derive(Debug, Default)]
pub struct Denylist {
    _private: (),
}

impl Denylist {
    /// Parses the rule files bundled in `denylists/` (compiled in).
    ///
    /// # Errors
    /// Only if a bundled file is malformed, which the test suite rules out.
    pub fn bundled() -> Result<Self, RuleError> {
        unimplemented!()
    }

    /// Reads and parses one rule file.
    ///
    /// # Errors
    /// [`RuleError`] naming the file and line.
    pub fn load_file(path: &Path) -> Result<Self, RuleError> {
        let _ = path;
        unimplemented!()
    }

    /// Parses rule text; `file` names it in errors and evidence.
    ///
    /// # Errors
    /// [`RuleError::Line`] naming `file` and the line.
    pub fn parse(file: &str, text: &str) -> Result<Self, RuleError> {
        let _ = (file, text);
        unimplemented!()
    }

    /// Appends the rules of `other`.
    pub fn extend(&mut self, other: Denylist) {
        let _ = other;
        unimplemented!()
    }

    /// Returns every rule.
    pub fn rules(&self) -> &[Rule] {
        unimplemented!()
    }

    /// Returns one rule.
    pub fn rule(&self, id: RuleId) -> &Rule {
        let _ = id;
        unimplemented!()
    }

    /// Pushes the ids of `asn` and `org_regex` rules matching an AS and its organisation name.
    pub fn match_as(&self, asn: Asn, org: &str, out: &mut Vec<RuleId>) {
        let _ = (asn, org, out);
        unimplemented!()
    }

    /// Pushes the ids of `prefix` rules covering `ip`.
    pub fn match_ip(&self, ip: IpAddr, out: &mut Vec<RuleId>) {
        let _ = (ip, out);
        unimplemented!()
    }

    /// Pushes the ids of `mac_prefix` rules covering `mac`, and of `oui_org_regex` rules
    /// matching its registrant name when there is one.
    pub fn match_mac(&self, mac: Mac, registrant: Option<&str>, out: &mut Vec<RuleId>) {
        let _ = (mac, registrant, out);
        unimplemented!()
    }
}
