//! Simulator configuration: listening address, slots, time scale, faults, latency model.
//!
//! Defaults follow profile A of `llm-servers.md` §5.2 (Ollama on one L40S, mistral-small 24B
//! Q4_K_M, `OLLAMA_NUM_PARALLEL=4`), so a default simulator behaves like the box the deployment
//! guides size for; every parameter can be changed to model another box.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A fault the simulator can inject into a request (WIRE.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// One segment's answer loses one inline code.
    DropCode,
    /// One segment's answer has one code duplicated.
    DupCode,
    /// One segment's answer gains a code the source lacks.
    InventCode,
    /// One segment's answer has its codes reordered or mis-nested.
    ReorderCodes,
    /// One answer entry left out.
    MissingId,
    /// One answer entry with an unknown id added.
    ExtraId,
    /// One answer entry duplicated.
    DupId,
    /// Prose around the JSON answer.
    Chatter,
    /// ```` ```json ```` fences around the answer.
    Fences,
    /// `<think>…</think>` before the answer.
    Think,
    /// Output cut, `done_reason`/`finish_reason` `length`.
    Truncate,
    /// One segment returned as its source text.
    Echo,
    /// HTTP 429.
    Http429,
    /// HTTP 500.
    Http500,
    /// HTTP 503.
    Http503,
    /// The request is held without an answer.
    Timeout,
    /// The connection is closed without a response.
    Reset,
    /// Long gaps between stream chunks.
    SlowStream,
    /// Every entry's id shifted to the next segment's (the last one to an unused id), as a real
    /// small model answers.
    ShiftIds,
    /// One entry carries the source text of another segment of the request.
    ForeignSource,
    /// Every segment of at most three words answered with its source unchanged.
    CopyShort,
    /// The answer falls into a repetition loop up to the output limit (`length`).
    RepeatLoop,
    /// One segment's answer leaves out the target of one glossary term it should carry.
    TermMiss,
    /// Segments of one request with the same source text are not translated alike: the second
    /// and later copies get another sense (a cloze answer no longer equal to its option).
    TermDrift,
}

impl FaultKind {
    /// Every kind, in the order the simulator draws them.
    pub const ALL: [FaultKind; 24] = [
        FaultKind::DropCode,
        FaultKind::DupCode,
        FaultKind::InventCode,
        FaultKind::ReorderCodes,
        FaultKind::MissingId,
        FaultKind::ExtraId,
        FaultKind::DupId,
        FaultKind::Chatter,
        FaultKind::Fences,
        FaultKind::Think,
        FaultKind::Truncate,
        FaultKind::Echo,
        FaultKind::Http429,
        FaultKind::Http500,
        FaultKind::Http503,
        FaultKind::Timeout,
        FaultKind::Reset,
        FaultKind::SlowStream,
        FaultKind::ShiftIds,
        FaultKind::ForeignSource,
        FaultKind::CopyShort,
        FaultKind::RepeatLoop,
        FaultKind::TermMiss,
        FaultKind::TermDrift,
    ];

    /// Kinds added after seeded runs were written: drawn only when their probability is set, so
    /// that they leave every other draw of a seeded run as it was.
    pub const DRAWN_WHEN_SET: [FaultKind; 1] = [FaultKind::TermDrift];

    /// The name used in a fault spec and in `/sim/stats`.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::DropCode => "drop_code",
            FaultKind::DupCode => "dup_code",
            FaultKind::InventCode => "invent_code",
            FaultKind::ReorderCodes => "reorder_codes",
            FaultKind::MissingId => "missing_id",
            FaultKind::ExtraId => "extra_id",
            FaultKind::DupId => "dup_id",
            FaultKind::Chatter => "chatter",
            FaultKind::Fences => "fences",
            FaultKind::Think => "think",
            FaultKind::Truncate => "truncate",
            FaultKind::Echo => "echo",
            FaultKind::Http429 => "http429",
            FaultKind::Http500 => "http500",
            FaultKind::Http503 => "http503",
            FaultKind::Timeout => "timeout",
            FaultKind::Reset => "reset",
            FaultKind::SlowStream => "slow_stream",
            FaultKind::ShiftIds => "shift_ids",
            FaultKind::ForeignSource => "foreign_source",
            FaultKind::CopyShort => "copy_short",
            FaultKind::RepeatLoop => "repeat_loop",
            FaultKind::TermMiss => "term_miss",
            FaultKind::TermDrift => "term_drift",
        }
    }

    /// The kind named `name`, if any.
    pub fn from_name(name: &str) -> Option<FaultKind> {
        FaultKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a fault spec was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultSpecError {
    /// An item is not `kind=p`.
    #[error("fault spec item {0:?} is not of the form kind=p")]
    NotKindEqualsP(String),
    /// An unknown kind.
    #[error("unknown fault kind {kind:?} (known kinds: all, {known})")]
    UnknownKind {
        /// The kind as written.
        kind: String,
        /// The list of known kinds.
        known: String,
    },
    /// A probability that is not a number in [0, 1].
    #[error("fault probability {value:?} for {kind} is not a number between 0 and 1")]
    BadProbability {
        /// The kind it was given for.
        kind: String,
        /// The value as written.
        value: String,
    },
}

/// Probability of each fault kind, drawn independently per request. All 0 unless set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultSpec {
    probs: BTreeMap<FaultKind, f64>,
}

impl FaultSpec {
    /// No faults.
    pub fn none() -> Self {
        Self::default()
    }

    /// Parses `kind=p,kind=p,…` (`all=p` sets every kind; later items override earlier ones).
    /// An empty string means no faults.
    pub fn parse(spec: &str) -> Result<Self, FaultSpecError> {
        let mut out = FaultSpec::none();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (kind, value) = item
                .split_once('=')
                .ok_or_else(|| FaultSpecError::NotKindEqualsP(item.to_string()))?;
            let (kind, value) = (kind.trim(), value.trim());
            let p: f64 =
                value.parse().ok().filter(|p: &f64| (0.0..=1.0).contains(p)).ok_or_else(|| {
                    FaultSpecError::BadProbability {
                        kind: kind.to_string(),
                        value: value.to_string(),
                    }
                })?;
            if kind == "all" {
                for k in FaultKind::ALL {
                    out.set(k, p);
                }
            } else {
                let k = FaultKind::from_name(kind).ok_or_else(|| FaultSpecError::UnknownKind {
                    kind: kind.to_string(),
                    known: FaultKind::ALL.map(FaultKind::name).join(", "),
                })?;
                out.set(k, p);
            }
        }
        Ok(out)
    }

    /// Sets the probability of one kind (clamped to [0, 1]).
    pub fn set(&mut self, kind: FaultKind, p: f64) {
        let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
        if p == 0.0 {
            self.probs.remove(&kind);
        } else {
            self.probs.insert(kind, p);
        }
    }

    /// Builder form of [`FaultSpec::set`].
    pub fn with(mut self, kind: FaultKind, p: f64) -> Self {
        self.set(kind, p);
        self
    }

    /// The probability of `kind`.
    pub fn get(&self, kind: FaultKind) -> f64 {
        self.probs.get(&kind).copied().unwrap_or(0.0)
    }

    /// Whether every probability is 0.
    pub fn is_empty(&self) -> bool {
        self.probs.is_empty()
    }
}

impl FromStr for FaultSpec {
    type Err = FaultSpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FaultSpec::parse(s)
    }
}

impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self.probs.iter().map(|(k, p)| format!("{k}={p}")).collect();
        f.write_str(&items.join(","))
    }
}

/// Latency model parameters (`llm-servers.md` §5.1, llama.cpp/Ollama family). Times in
/// simulated seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Latency {
    /// Single-stream decode step time τ1 (s). Profile A: 0.021 (g1 ≈ 47.6 tok/s).
    pub tau1_s: f64,
    /// Batch exponent α: a step with `n` sequences decoding takes `τ1·n^(1−α)`, so the aggregate
    /// decode rate is `g1·n^α`. Profile A: 0.65.
    pub alpha: f64,
    /// KV read time per context token per decoding sequence and step (s):
    /// `kv_b / (BW·η_bw)` = 163,840 B / 691 GB/s for profile A.
    pub kv_s_per_ctx_token: f64,
    /// Prefill (prompt processing) rate, tokens per second. Profile A: 2,200.
    pub prefill_tps: f64,
    /// Model load time on first use or after a `num_ctx` change (s). Profile A cold: 10.
    pub load_s: f64,
    /// Context size used when a request sets none (`num_ctx`). Profile A: 8,192.
    pub default_num_ctx: u32,
    /// Tokens of a thinking trace when a thinking-capable model thinks: uniform in this range.
    pub think_tokens: (u32, u32),
    /// Prompt tokens added per message for the chat template.
    pub template_tokens_per_message: u32,
    /// Prompt tokens counted per attached image.
    pub tokens_per_image: u32,
    /// `slow_stream` fault: number of long gaps in an answer.
    pub slow_gaps: u32,
    /// `slow_stream` fault: length of each gap (s).
    pub slow_gap_s: f64,
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            tau1_s: 0.021,
            alpha: 0.65,
            kv_s_per_ctx_token: 163_840.0 / 691e9,
            prefill_tps: 2_200.0,
            load_s: 10.0,
            default_num_ctx: 8_192,
            think_tokens: (100, 800),
            template_tokens_per_message: 4,
            tokens_per_image: 256,
            slow_gaps: 3,
            slow_gap_s: 20.0,
        }
    }
}

impl Latency {
    /// Profile A of `llm-servers.md` §5.2: Ollama on one L40S 48 GB, mistral-small 24B Q4_K_M
    /// (the default; use 4 slots).
    pub fn ollama_l40s() -> Latency {
        Latency::default()
    }

    /// Profile B of `llm-servers.md` §5.2: Ollama on one H100 SXM 80 GB, mistral-small 24B
    /// Q4_K_M (use 8 slots).
    pub fn ollama_h100() -> Latency {
        Latency {
            tau1_s: 0.009,
            alpha: 0.70,
            kv_s_per_ctx_token: 163_840.0 / 2_010e9,
            prefill_tps: 4_000.0,
            ..Latency::default()
        }
    }

    /// Aggregate decode rate with `n` sequences decoding at context `ctx` tokens each (tok/s),
    /// as the step model gives it.
    pub fn aggregate_decode_tps(&self, n: u32, ctx: u32) -> f64 {
        let n = f64::from(n.max(1));
        n / self.step_s(n, f64::from(ctx))
    }

    /// Step time with `n` sequences decoding, the caller's context being `ctx` tokens (the
    /// others are assumed alike).
    pub fn step_s(&self, n: f64, ctx: f64) -> f64 {
        self.tau1_s * n.powf(1.0 - self.alpha) + n * ctx * self.kv_s_per_ctx_token
    }
}

/// Which real server the simulator stands for where servers differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// Ollama: its native API (`/api/*`) and its OpenAI layer (`/v1/*`, Ollama's error shape).
    #[default]
    Ollama,
    /// llama.cpp's `llama-server`: `/v1/*` with its error bodies and statuses (500 for a
    /// malformed body, `exceed_context_size_error`), stream chunk shapes and `timings`,
    /// `/health`, `/props`, `/v1/models` with `meta.n_ctx`; any model name is served by the one
    /// model; `/api/*` is not served. Shapes observed on a real build (issue 18).
    LlamaCpp,
}

impl Flavor {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Flavor::Ollama => "ollama",
            Flavor::LlamaCpp => "llamacpp",
        }
    }
}

impl FromStr for Flavor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ollama" => Ok(Flavor::Ollama),
            "llamacpp" | "llama.cpp" | "llama-server" => Ok(Flavor::LlamaCpp),
            other => Err(format!("unknown flavor {other:?} (ollama or llamacpp)")),
        }
    }
}

/// How the simulated model translates (WIRE.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SimMode {
    /// Every segment by itself: the same source always gets the same pseudo-translation.
    #[default]
    Pseudo,
    /// As a model that reads around each term: the pseudo-translation carries a *sense* mark
    /// (`¹`, `²` or `³` before each closing `⟧`) chosen by the whole request (its context and
    /// every segment's text), so the same term gets one translation within a request and may
    /// get another in a request with other text around it.
    Contextual,
}

impl SimMode {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            SimMode::Pseudo => "pseudo",
            SimMode::Contextual => "contextual",
        }
    }
}

impl FromStr for SimMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pseudo" => Ok(SimMode::Pseudo),
            "contextual" => Ok(SimMode::Contextual),
            other => Err(format!("unknown mode {other:?} (pseudo or contextual)")),
        }
    }
}

/// Everything the simulator needs to start.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The server it behaves like.
    pub flavor: Flavor,
    /// How it translates.
    pub mode: SimMode,
    /// Address to bind.
    pub host: IpAddr,
    /// Port to bind (0: any free port).
    pub port: u16,
    /// Decode slots (`OLLAMA_NUM_PARALLEL`). At least 1.
    pub slots: u32,
    /// How many times faster than real time the simulated clock runs (> 0).
    pub time_scale: f64,
    /// Fault probabilities.
    pub faults: FaultSpec,
    /// Seed of every random draw.
    pub seed: u64,
    /// Models served; `None` accepts any model name.
    pub models: Option<Vec<String>>,
    /// API key required on every API request; `None` means no authentication.
    pub api_key: Option<String>,
    /// Latency model.
    pub latency: Latency,
    /// The `timeout` fault holds a request this long (real seconds) at most, then closes the
    /// connection. Clients are expected to give up earlier.
    pub hang_real_s: f64,
    /// Requests allowed to wait (for a slot or a model load) before new ones get Ollama's 503
    /// (`OLLAMA_MAX_QUEUE`, default 512).
    pub max_queue: u32,
}

/// Model name listed when `--models` is not given.
pub const DEFAULT_MODEL: &str = "mistral-small3.2:latest";

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            flavor: Flavor::Ollama,
            mode: SimMode::Pseudo,
            host: IpAddr::from([127, 0, 0, 1]),
            port: 11434,
            slots: 4,
            time_scale: 1.0,
            faults: FaultSpec::none(),
            seed: 0,
            models: None,
            api_key: None,
            latency: Latency::default(),
            hang_real_s: 600.0,
            max_queue: 512,
        }
    }
}

/// Why a configuration cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// Zero slots.
    #[error("slots must be at least 1")]
    NoSlots,
    /// A time scale that is not a positive finite number.
    #[error("time scale {0} must be a positive number")]
    BadTimeScale(f64),
    /// An empty model list.
    #[error("the model list is empty")]
    NoModels,
    /// A latency parameter out of range.
    #[error("latency parameter {0} must be a positive finite number")]
    BadLatency(&'static str),
}

impl SimConfig {
    /// Checks the values a server cannot run with.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.slots == 0 {
            return Err(ConfigError::NoSlots);
        }
        if !(self.time_scale.is_finite() && self.time_scale > 0.0) {
            return Err(ConfigError::BadTimeScale(self.time_scale));
        }
        if self.models.as_ref().is_some_and(Vec::is_empty) {
            return Err(ConfigError::NoModels);
        }
        let l = &self.latency;
        let positive = |v: f64| v.is_finite() && v > 0.0;
        let non_negative = |v: f64| v.is_finite() && v >= 0.0;
        if !positive(l.tau1_s) {
            return Err(ConfigError::BadLatency("tau1_s"));
        }
        if !(l.alpha.is_finite() && (0.0..=1.0).contains(&l.alpha)) {
            return Err(ConfigError::BadLatency("alpha"));
        }
        if !positive(l.prefill_tps) {
            return Err(ConfigError::BadLatency("prefill_tps"));
        }
        if !non_negative(l.kv_s_per_ctx_token) {
            return Err(ConfigError::BadLatency("kv_s_per_ctx_token"));
        }
        if !non_negative(l.load_s) {
            return Err(ConfigError::BadLatency("load_s"));
        }
        if !non_negative(l.slow_gap_s) {
            return Err(ConfigError::BadLatency("slow_gap_s"));
        }
        if l.default_num_ctx == 0 {
            return Err(ConfigError::BadLatency("default_num_ctx"));
        }
        if !positive(self.hang_real_s) {
            return Err(ConfigError::BadLatency("hang_real_s"));
        }
        Ok(())
    }

    /// Whether `model` is served.
    pub fn knows_model(&self, model: &str) -> bool {
        match &self.models {
            None => true,
            Some(list) => list.iter().any(|m| {
                m == model
                    || (!m.contains(':') && model == format!("{m}:latest"))
                    || (!model.contains(':') && *m == format!("{model}:latest"))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_parses_all_and_overrides() {
        let s = FaultSpec::parse("all=0.015,drop_code=0.1").unwrap();
        assert_eq!(s.get(FaultKind::DropCode), 0.1);
        assert_eq!(s.get(FaultKind::Reset), 0.015);
        assert_eq!(s.get(FaultKind::SlowStream), 0.015);
        let s = FaultSpec::parse("").unwrap();
        assert!(s.is_empty());
        for k in FaultKind::ALL {
            assert_eq!(FaultKind::from_name(k.name()), Some(k));
            assert_eq!(FaultSpec::parse(&format!("{k}=1")).unwrap().get(k), 1.0);
        }
    }

    #[test]
    fn spec_errors_name_the_problem() {
        let e = FaultSpec::parse("drop_codes=0.1").unwrap_err();
        assert!(e.to_string().contains("\"drop_codes\""), "{e}");
        let e = FaultSpec::parse("echo=1.5").unwrap_err();
        assert!(e.to_string().contains("\"1.5\"") && e.to_string().contains("echo"), "{e}");
        let e = FaultSpec::parse("echo=abc").unwrap_err();
        assert!(e.to_string().contains("\"abc\""), "{e}");
        let e = FaultSpec::parse("echo").unwrap_err();
        assert!(matches!(e, FaultSpecError::NotKindEqualsP(_)), "{e}");
        assert!(FaultSpec::parse("echo=NaN").is_err());
    }

    #[test]
    fn profile_a_curve_matches_the_research_table() {
        let l = Latency::default();
        // llm-servers.md §5.2 table, profile A at 1k context: g1 47, G(4) 114, G(8) 176.
        let g = |n| l.aggregate_decode_tps(n, 1000);
        assert!((g(1) - 47.0).abs() < 1.5, "{}", g(1));
        assert!((g(4) - 114.0).abs() < 3.0, "{}", g(4));
        assert!((g(8) - 176.0).abs() < 5.0, "{}", g(8));
        // Profile B: g1 110, G(4) 286, G(8) 459.
        let b = Latency::ollama_h100();
        let g = |n| b.aggregate_decode_tps(n, 1000);
        assert!((g(1) - 110.0).abs() < 2.0, "{}", g(1));
        assert!((g(4) - 286.0).abs() < 5.0, "{}", g(4));
        assert!((g(8) - 459.0).abs() < 8.0, "{}", g(8));
    }

    #[test]
    fn config_validation() {
        let mut c = SimConfig::default();
        assert!(c.validate().is_ok());
        c.slots = 0;
        assert_eq!(c.validate(), Err(ConfigError::NoSlots));
        c.slots = 1;
        c.time_scale = 0.0;
        assert!(c.validate().is_err());
        c.time_scale = 10.0;
        c.models = Some(vec!["a".into()]);
        assert!(c.knows_model("a") && c.knows_model("a:latest") && !c.knows_model("b"));
    }
}
