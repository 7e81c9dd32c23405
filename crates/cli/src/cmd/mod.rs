//! One module per subcommand.

pub(crate) mod inspect;
pub(crate) mod llm;
pub(crate) mod serve;
pub(crate) mod simulate;
pub(crate) mod storage;
pub(crate) mod translate;
