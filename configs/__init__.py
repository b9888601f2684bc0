"""jaxgan's recipes: one file per recipe, each ``get_config()`` returning
``jaxgan.config.default_config()`` with a few fields changed. Installed with the package as
``jaxgan.recipes``, so ``jaxgan.load_recipe("digits_dcgan")`` finds them from anywhere."""
