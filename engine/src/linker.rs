//! The `Linker`: a namespace of externs by (module, name) that resolves a module's imports.

use std::collections::HashMap;

use crate::error::Error;
use crate::module::Module;
use crate::store::Store;
use crate::value::{Extern, Instance};

/// Resolves imports by name.
#[derive(Debug, Clone, Default)]
pub struct Linker {
    defs: HashMap<(String, String), Extern>,
}

impl Linker {
    pub fn new() -> Self {
        Linker::default()
    }

    pub fn define(&mut self, module: &str, name: &str, ext: Extern) -> &mut Self {
        self.defs
            .insert((module.to_string(), name.to_string()), ext);
        self
    }

    /// Defines every export of `instance` under the module name `module`.
    pub fn define_instance(
        &mut self,
        store: &Store,
        module: &str,
        instance: Instance,
    ) -> &mut Self {
        for (name, ext) in store.instance_exports(instance) {
            self.define(module, &name, ext);
        }
        self
    }

    pub fn get(&self, module: &str, name: &str) -> Option<Extern> {
        self.defs
            .get(&(module.to_string(), name.to_string()))
            .copied()
    }

    /// Instantiates `module`, resolving its imports here. The start function is not run.
    pub fn instantiate(&self, store: &mut Store, module: &Module) -> Result<Instance, Error> {
        let imports = module
            .imports()
            .map(|i| {
                self.get(&i.module, &i.name).ok_or_else(|| {
                    Error::Link(format!(
                        "unknown import: {}.{} ({})",
                        i.module,
                        i.name,
                        i.ty.kind_name()
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        store.instantiate(module, &imports)
    }
}
