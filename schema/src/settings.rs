//! One declaration per setting: the rows of a resource's settings table,
//! each mapping one Terraform attribute to the AWS member that holds it,
//! and the generic functions those rows drive — what a create sends, what
//! an update sends (and whether one is needed), whether what AWS reports
//! is what the state asks for (adoption), and the state built from what
//! AWS reports (read).
//!
//! Owns: [`Setting`], [`OnUpdate`] and those four functions. Does not own
//! any table (each resource declares its own beside its state struct:
//! `crate::association::SETTINGS`, `crate::addon::SETTINGS`,
//! `crate::addon::ENTRY_SETTINGS`) or the SDK mapping of a settings struct
//! (the provider's AWS layer, one place per struct).
//!
//! A state struct and a settings struct are read and written through serde
//! as maps keyed by attribute and member name, so a row is all it takes
//! for a new setting to reach every path; the tests in each table's module
//! enumerate the spec and the settings struct, so a row that is missing,
//! or one that names no field, fails.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// How an update treats a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnUpdate {
    /// Sent on every update, changed or not; its change makes an update.
    /// When unset, nothing is sent (AWS keeps what it has rather than
    /// refuse `""`: an association's `roleArn`, emulator/FACTS.md F9; an
    /// addon's IRSA role, whose absence removes it, F1/F2).
    Always,
    /// Sent when its meaning changed; when it is removed its unset value is
    /// sent (`""` clears a text, `[]` a list, FACTS.md F9/F10).
    WhenChanged,
    /// Sent with every update as planned, but its change alone makes no
    /// update: an option of the request, not a setting AWS keeps (an
    /// addon's `resolveConflicts`).
    Alongside,
    /// Never sent by an update (an option of the create alone).
    Never,
}

impl OnUpdate {
    /// Whether a change of the setting alone needs an update call.
    pub fn triggers(self) -> bool {
        matches!(self, OnUpdate::Always | OnUpdate::WhenChanged)
    }
}

/// One setting, declared once: the Terraform attribute, the AWS member,
/// what "not set" is, when two values mean the same, which requests carry
/// it and whether AWS reports it.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// The attribute (a field of the state struct, a name in the spec).
    pub attr: &'static str,
    /// The AWS member (a field of the settings struct, camelCase).
    pub member: &'static str,
    /// What the state holds when AWS reports the setting absent or `""`:
    /// null, or a default such as `false`.
    pub unset: fn() -> Value,
    /// Two set texts that mean the same (`None`: only equal ones). The
    /// state keeps its own text of a value that means the same.
    pub equivalent: Option<fn(&str, &str) -> bool>,
    /// Whether a create sends it.
    pub on_create: bool,
    /// What an update sends.
    pub on_update: OnUpdate,
    /// Whether AWS's description reports it (read and adoption compare it).
    pub reported: bool,
    /// A list whose items are objects mapped by their own table (the
    /// request carries each item's members). Never reported as a whole:
    /// a caller reads such a list item by item, with the item table.
    pub items: Option<&'static [Setting]>,
}

/// Null: the unset value of most settings.
pub fn null() -> Value {
    Value::Null
}

/// `false`: the unset value of a flag that AWS reports as `false`.
pub fn no() -> Value {
    Value::Bool(false)
}

impl Setting {
    /// A setting that a create sends, an update sends when it changed,
    /// and AWS reports; unset is null, equal only when equal.
    pub const fn new(attr: &'static str, member: &'static str) -> Setting {
        Setting {
            attr,
            member,
            unset: null,
            equivalent: None,
            on_create: true,
            on_update: OnUpdate::WhenChanged,
            reported: true,
            items: None,
        }
    }

    /// The same row with another update rule.
    pub const fn on_update(self, on_update: OnUpdate) -> Setting {
        Setting { on_update, ..self }
    }

    /// The same row with another unset value.
    pub const fn unset(self, unset: fn() -> Value) -> Setting {
        Setting { unset, ..self }
    }

    /// The same row, with texts compared by meaning.
    pub const fn equivalent(self, eq: fn(&str, &str) -> bool) -> Setting {
        Setting {
            equivalent: Some(eq),
            ..self
        }
    }

    /// The same row, not sent by a create.
    pub const fn not_on_create(self) -> Setting {
        Setting {
            on_create: false,
            ..self
        }
    }

    /// The same row, not reported by AWS.
    pub const fn not_reported(self) -> Setting {
        Setting {
            reported: false,
            ..self
        }
    }

    /// The same row, a list of objects mapped by `rows`.
    pub const fn items(self, rows: &'static [Setting]) -> Setting {
        Setting {
            items: Some(rows),
            ..self
        }
    }

    /// `v` with every form of "not set" (null, `""`, the unset value) as
    /// the unset value.
    fn normal(&self, v: &Value) -> Value {
        match v {
            Value::Null => (self.unset)(),
            Value::String(t) if t.is_empty() => (self.unset)(),
            v => v.clone(),
        }
    }

    /// A state value as the member carries it: normal, and a list's items
    /// as objects of the members that `include` picks.
    fn as_member(&self, v: &Value, include: fn(&Setting) -> bool) -> Value {
        match (self.items, self.normal(v)) {
            (Some(rows), Value::Array(items)) => Value::Array(
                items
                    .iter()
                    .map(|item| Value::Object(project(rows, &fields(item), include)))
                    .collect(),
            ),
            (_, v) => v,
        }
    }

    /// Whether two member values mean the same for this setting (a list:
    /// the same items in any order).
    pub fn same(&self, a: &Value, b: &Value) -> bool {
        let (a, b) = (self.normal(a), self.normal(b));
        match (&a, &b, self.items, self.equivalent) {
            (Value::Array(x), Value::Array(y), Some(rows), _) => same_items(rows, x, y),
            (Value::String(x), Value::String(y), None, Some(eq)) => eq(x, y),
            _ => a == b,
        }
    }

    /// What an update sends for a planned member value: itself; to clear,
    /// `""` (a text) or `[]` (a list) — a non-null unset value, such as
    /// `false`, is sent as itself; nothing for an unset setting that goes
    /// with every update ([`OnUpdate::Always`], [`OnUpdate::Alongside`]).
    fn sent(&self, planned: Value) -> Option<Value> {
        match planned {
            Value::Null if matches!(self.on_update, OnUpdate::Always | OnUpdate::Alongside) => None,
            Value::Null if self.items.is_some() => Some(Value::Array(vec![])),
            Value::Null => Some(Value::String(String::new())),
            v => Some(v),
        }
    }
}

/// Whether two lists of member objects hold the same items, in any order.
fn same_items(rows: &[Setting], a: &[Value], b: &[Value]) -> bool {
    let mut left: Vec<&Value> = b.iter().collect();
    a.len() == b.len()
        && a.iter().all(|x| {
            let hit = left.iter().position(|y| {
                rows.iter()
                    .all(|r| r.same(member(x, r.member), member(y, r.member)))
            });
            hit.map(|i| left.swap_remove(i)).is_some()
        })
}

const NULL: Value = Value::Null;

/// The value of `key` in an object (null when absent or not an object).
fn member<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key).unwrap_or(&NULL)
}

/// A serde map of `v` (a state or settings struct), empty when it is not one.
pub fn fields<T: Serialize>(v: &T) -> Map<String, Value> {
    match serde_json::to_value(v) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// `T` from a serde map; `fallback` when the map does not fit (it always
/// does: the map was made from a `T`, or by rows whose members are its
/// fields, as the tests of each table prove).
pub fn from_fields<T: DeserializeOwned>(m: Map<String, Value>, fallback: T) -> T {
    serde_json::from_value(Value::Object(m)).unwrap_or(fallback)
}

/// The members that `include` picks, from a state map.
fn project(
    rows: &[Setting],
    state: &Map<String, Value>,
    include: fn(&Setting) -> bool,
) -> Map<String, Value> {
    rows.iter()
        .filter(|r| include(r))
        .map(|r| {
            let v = state.get(r.attr).unwrap_or(&NULL);
            (r.member.to_string(), r.as_member(v, include))
        })
        .collect()
}

fn created(r: &Setting) -> bool {
    r.on_create
}

fn updated(r: &Setting) -> bool {
    r.on_update != OnUpdate::Never
}

/// What a create sends for state `s`: every setting a create carries
/// (unset ones as their unset value where that is not null).
pub fn create_request<S: Serialize, T: DeserializeOwned + Default>(table: &[Setting], s: &S) -> T {
    from_fields(project(table, &fields(s), created), T::default())
}

/// What an update sends to turn `prior` into `planned`: the settings whose
/// meaning changed, those sent with every update, never those of the
/// create alone. `None` when no setting whose change needs a call changed.
/// `forced` names settings that count as changed whatever their values
/// (such as a list whose items AWS lost and must be sent again).
pub fn update_request<S: Serialize, T: DeserializeOwned + Default>(
    table: &[Setting],
    prior: &S,
    planned: &S,
    forced: &[&str],
) -> Option<T> {
    let (was, will) = (fields(prior), fields(planned));
    let value =
        |m: &Map<String, Value>, r: &Setting| r.as_member(m.get(r.attr).unwrap_or(&NULL), updated);
    let changed =
        |r: &Setting| forced.contains(&r.attr) || !r.same(&value(&was, r), &value(&will, r));
    if !table.iter().any(|r| r.on_update.triggers() && changed(r)) {
        return None;
    }
    let mut sent = Map::new();
    for r in table {
        let send = match r.on_update {
            OnUpdate::Always | OnUpdate::Alongside => true,
            OnUpdate::WhenChanged => changed(r),
            OnUpdate::Never => false,
        };
        if let Some(v) = send.then(|| r.sent(value(&will, r))).flatten() {
            sent.insert(r.member.to_string(), v);
        }
    }
    Some(from_fields(sent, T::default()))
}

/// Whether the settings AWS `reported` are those state `s` asks for
/// (every reported setting means the same).
pub fn same_as_reported<S: Serialize, T: Serialize>(
    table: &[Setting],
    s: &S,
    reported: &T,
) -> bool {
    let (state, remote) = (fields(s), fields(reported));
    table.iter().filter(|r| r.reported).all(|r| {
        let own = r.as_member(state.get(r.attr).unwrap_or(&NULL), created);
        r.same(&own, remote.get(r.member).unwrap_or(&NULL))
    })
}

/// `base` with the settings AWS `reported`, each as the state holds it
/// (unset as its unset value; `base`'s own text of a value that means the
/// same). What AWS does not report stays as `base` has it.
pub fn with_reported<S: Serialize + DeserializeOwned + Clone, T: Serialize>(
    table: &[Setting],
    base: &S,
    reported: &T,
) -> S {
    let (mut state, remote) = (fields(base), fields(reported));
    for r in table.iter().filter(|r| r.reported && r.items.is_none()) {
        let found = r.normal(remote.get(r.member).unwrap_or(&NULL));
        let own = state.get(r.attr).unwrap_or(&NULL);
        let kept = if r.equivalent.is_some() && !own.is_null() && r.same(own, &found) {
            own.clone()
        } else {
            found
        };
        state.insert(r.attr.to_string(), kept);
    }
    from_fields(state, base.clone())
}

#[cfg(test)]
pub(crate) mod table_tests {
    //! The checks every table's tests run: coverage of the spec and the
    //! settings struct, and a round trip of each row.
    use super::*;
    use std::collections::BTreeSet;

    /// Every attribute of `names` is a row or in `others` (not both), every
    /// field of `T` is a row's member, and no two rows of one request share
    /// a member.
    pub(crate) fn assert_covers<T: Serialize + Default>(
        table: &[Setting],
        others: &[&str],
        names: &[&str],
    ) {
        let all: BTreeSet<&str> = names.iter().copied().collect();
        let rows: BTreeSet<&str> = table.iter().map(|r| r.attr).collect();
        let others: BTreeSet<&str> = others.iter().copied().collect();
        assert!(
            rows.is_disjoint(&others),
            "{:?}",
            rows.intersection(&others)
        );
        let classified: BTreeSet<&str> = rows.union(&others).copied().collect();
        assert_eq!(
            all, classified,
            "attributes not classified, or classified but absent"
        );
        let members: BTreeSet<String> = fields(&T::default()).keys().cloned().collect();
        let named: BTreeSet<String> = table.iter().map(|r| r.member.to_string()).collect();
        assert_eq!(members, named, "settings fields and rows differ");
        for include in [created, updated] {
            let picked: Vec<&str> = table
                .iter()
                .filter(|r| include(r))
                .map(|r| r.member)
                .collect();
            let distinct: BTreeSet<&str> = picked.iter().copied().collect();
            assert_eq!(
                picked.len(),
                distinct.len(),
                "a member twice in one request"
            );
        }
        for r in table.iter().filter(|r| r.items.is_some()) {
            assert!(!r.reported, "{}: a list is read item by item", r.attr);
        }
    }

    /// Row `attr`, set to `v` in state `base` (`sent`: as the member
    /// carries it), goes out with a create and an update as its row says,
    /// comes back as it was when reported, and counts in adoption. `base`
    /// sets every field a state cannot lack (an entry's service account).
    pub(crate) fn assert_round_trip<S, T>(
        table: &[Setting],
        base: &S,
        attr: &str,
        v: Value,
        sent: Value,
    ) where
        S: Serialize + DeserializeOwned + Clone + Default,
        T: Serialize + DeserializeOwned + Default,
    {
        let Some(row) = table.iter().find(|r| r.attr == attr) else {
            panic!("{attr} is not a setting");
        };
        let mut m = fields(base);
        m.insert(attr.to_string(), v.clone());
        let s: S = from_fields(m, base.clone());
        assert_ne!(fields(&s), fields(base), "{attr} is not a field");
        let create = fields(&create_request::<S, T>(table, &s));
        if row.on_create {
            assert_eq!(create.get(row.member), Some(&sent), "{attr}: create");
        } else {
            assert_ne!(create.get(row.member), Some(&sent), "{attr}: create");
        }
        // An update that also changes a setting that needs a call, so that
        // an option that goes along (or one that must not) is seen too.
        let trigger = table
            .iter()
            .find(|r| r.on_update.triggers() && r.items.is_none() && r.attr != attr);
        let (mut before, mut after) = (fields(base), fields(&s));
        if let Some(t) = trigger.filter(|_| !row.on_update.triggers()) {
            before.insert(t.attr.to_string(), Value::String("before".into()));
            after.insert(t.attr.to_string(), Value::String("after".into()));
        }
        let before: S = from_fields(before, base.clone());
        let after: S = from_fields(after, base.clone());
        let update = update_request::<S, T>(table, &before, &after, &[]).map(|u| fields(&u));
        let got = update.as_ref().and_then(|u| u.get(row.member));
        if row.on_update == OnUpdate::Never {
            assert!(update.is_some(), "{attr}: no update to look at");
            assert_ne!(got, Some(&sent), "{attr}: update");
        } else {
            assert_eq!(got, Some(&sent), "{attr}: update");
        }
        if row.reported {
            // What EKS reports of `base`, but this setting as `s` has it.
            let mut r = fields(&create_request::<S, T>(table, base));
            r.insert(row.member.to_string(), sent.clone());
            let reported: T = from_fields(r, T::default());
            let back = fields(&with_reported(table, base, &reported));
            assert_eq!(back.get(attr), Some(&v), "{attr}: read");
            assert!(same_as_reported(table, &s, &reported), "{attr}: adoption");
            assert!(!same_as_reported(table, base, &reported), "{attr}: unseen");
        }
    }
}
