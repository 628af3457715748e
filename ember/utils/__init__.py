"""ember.utils: data loading (``ember.utils.data``) and checkpoint helpers (``ember.utils.safetensors``)."""
