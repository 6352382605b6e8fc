//! Saving and loading weights as safetensors (framework-neutral: any tool reads them).
//!
//! A model's burn parameters are named by their path in the module tree
//! (`dnn.layers.0.weight`), found with burn's module visitor, so every architecture is saved
//! by the same code; the embedding table is stored as `embedding` (`[rows, dim]`).

use std::collections::HashMap;
use std::path::Path;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Gradients, Tensor, TensorData};
use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;

use crate::{to_vec, NnError};

/// A named f32 tensor: shape and row-major values.
pub type Named = (Vec<usize>, Vec<f32>);

struct Collect {
    path: Vec<String>,
    out: Vec<(String, Named)>,
    error: Option<NnError>,
}

impl ModuleVisitor for Collect {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let dims = t.dims().to_vec();
        match to_vec(t) {
            Ok(v) => self.out.push((self.path.join("."), (dims, v))),
            Err(e) => self.error = Some(e),
        }
    }
}

/// Every float parameter of `module` by path.
///
/// # Errors
/// [`NnError::Tensor`] when a tensor cannot be read back.
pub fn named_parameters<M: Module>(module: &M) -> Result<Vec<(String, Named)>, NnError> {
    let mut c = Collect {
        path: Vec::new(),
        out: Vec::new(),
        error: None,
    };
    module.visit(&mut c);
    match c.error {
        Some(e) => Err(e),
        None => Ok(c.out),
    }
}

struct CollectGrads<'a> {
    path: Vec<String>,
    grads: &'a Gradients,
    out: Vec<(String, Named)>,
    error: Option<NnError>,
}

impl ModuleVisitor for CollectGrads<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let dims = t.dims().to_vec();
        let n = dims.iter().product();
        let values = match t.grad(self.grads) {
            Some(g) => match to_vec(g) {
                Ok(v) => v,
                Err(e) => {
                    self.error = Some(e);
                    return;
                }
            },
            None => vec![0.0; n],
        };
        self.out.push((self.path.join("."), (dims, values)));
    }
}

/// The gradient of every float parameter of `module` (on an autodiff device) by path, in the
/// order and with the names of [`named_parameters`]; zeros for a parameter the loss does not
/// reach.
///
/// # Errors
/// [`NnError::Tensor`] when a tensor cannot be read back.
pub fn named_gradients<M: Module>(
    module: &M,
    grads: &Gradients,
) -> Result<Vec<(String, Named)>, NnError> {
    let mut c = CollectGrads {
        path: Vec::new(),
        grads,
        out: Vec::new(),
        error: None,
    };
    module.visit(&mut c);
    match c.error {
        Some(e) => Err(e),
        None => Ok(c.out),
    }
}

struct Replace<'a> {
    path: Vec<String>,
    tensors: &'a HashMap<String, Named>,
    error: Option<NnError>,
}

impl ModuleMapper for Replace<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let name = self.path.join(".");
        let current = param.val();
        let dims = current.dims().to_vec();
        match self.tensors.get(&name) {
            Some((shape, values))
                if *shape == dims && values.len() == dims.iter().product::<usize>() =>
            {
                let device = current.device();
                let t =
                    Tensor::<D>::from_data(TensorData::new(values.clone(), shape.clone()), &device);
                param.map(|_| t)
            }
            Some((shape, _)) => {
                self.error = Some(NnError::Shape(format!(
                    "parameter {name}: saved shape {shape:?}, model shape {dims:?}"
                )));
                param
            }
            None => {
                self.error = Some(NnError::Shape(format!(
                    "parameter {name} is not in the file"
                )));
                param
            }
        }
    }
}

/// Replaces every float parameter of `module` by the tensor of the same path.
///
/// # Errors
/// [`NnError::Shape`] naming the parameter when one is missing or has another shape.
pub fn load_parameters<M: Module>(
    module: M,
    tensors: &HashMap<String, Named>,
) -> Result<M, NnError> {
    let mut r = Replace {
        path: Vec::new(),
        tensors,
        error: None,
    };
    let m = module.map(&mut r);
    match r.error {
        Some(e) => Err(e),
        None => Ok(m),
    }
}

/// Writes named tensors as a safetensors file, atomically (temporary file + rename).
///
/// # Errors
/// [`NnError::Tensor`] naming the file when it cannot be written.
pub fn write_safetensors(path: &Path, tensors: &[(String, Named)]) -> Result<(), NnError> {
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(n, (shape, v))| {
            (
                n.clone(),
                shape.clone(),
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            )
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(n, shape, b)| {
            TensorView::new(Dtype::F32, shape.clone(), b)
                .map(|v| (n.clone(), v))
                .map_err(|e| NnError::Tensor(format!("{n}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let data = safetensors::serialize(views, None)
        .map_err(|e| NnError::Tensor(format!("{}: {e}", path.display())))?;
    let tmp = path.with_extension("safetensors.tmp");
    std::fs::write(&tmp, &data)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            NnError::Tensor(format!("{}: {e}", path.display()))
        })
}

/// Reads every f32 tensor of a safetensors file.
///
/// # Errors
/// [`NnError::Tensor`] naming the file when it is unreadable, not safetensors, or holds a
/// tensor that is not f32.
pub fn read_safetensors(path: &Path) -> Result<HashMap<String, Named>, NnError> {
    let bytes =
        std::fs::read(path).map_err(|e| NnError::Tensor(format!("{}: {e}", path.display())))?;
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| NnError::Tensor(format!("{}: {e}", path.display())))?;
    let mut out = HashMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(NnError::Tensor(format!(
                "{}: tensor {name} is {:?}, expected F32",
                path.display(),
                view.dtype()
            )));
        }
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        out.insert(name, (view.shape().to_vec(), values));
    }
    Ok(out)
}
