//! Exchange formats of translation resources (not documents): translation memories (TMX) and,
//! beside them, term bases. They are read into and written from the domain's types, never
//! merged into a skeleton.

pub mod tmx;
