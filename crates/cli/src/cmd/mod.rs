//! One module per subcommand.

pub(crate) mod inspect;
pub(crate) mod keys;
pub(crate) mod llm;
pub(crate) mod serve;
pub(crate) mod simulate;
pub(crate) mod translate;
pub(crate) mod users;
