//! `open_enum!`: the enums of closed value sets, open to values this version does not know.

/// Declares an enum of a closed value set (`asc`/`desc`) that still decodes a value this
/// version does not know, into `Unknown(String)`, and sends it back unchanged: a new value
/// on the service side is never a decode failure.
#[doc(hidden)]
#[macro_export]
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* #[doc = concat!("`", $wire, "`")] $variant, )+
            /// A value this version does not know, kept as sent.
            Unknown(String),
        }

        impl $name {
            /// Every known value, in the description's order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Unknown(other) => other,
                }
            }
        }

        impl ::std::convert::From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $wire => $name::$variant, )+
                    other => $name::Unknown(other.to_owned()),
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok($name::from(value))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let value = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok($name::from(&*value))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::open_enum! {
        /// Test.
        Order { Asc = "asc", Desc = "desc" }
    }

    #[test]
    fn unknown_values_are_kept_and_sent_back() {
        let known: Order = serde_json::from_str(r#""desc""#).expect("decodes");
        assert_eq!(known, Order::Desc);
        let unknown: Order = serde_json::from_str(r#""random""#).expect("never fails");
        assert_eq!(unknown, Order::Unknown("random".into()));
        assert_eq!(
            serde_json::to_string(&unknown).expect("encodes"),
            r#""random""#
        );
        assert_eq!(Order::KNOWN, [Order::Asc, Order::Desc]);
        assert_eq!(Order::Asc.to_string(), "asc");
    }
}
