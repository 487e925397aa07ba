# lit configuration for infc: textual IR / pass tests and CLI tests.
import os
import lit.formats

config.name = "infc"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".ir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.infc_binary_dir, "tests", "lit")
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py.in"]

bindir = os.path.join(config.infc_binary_dir, "bin")
config.substitutions.append(("%infc-opt", os.path.join(bindir, "infc-opt")))
config.substitutions.append(("%infc-conformance", os.path.join(bindir, "infc-conformance")))
config.substitutions.append(("%infc", os.path.join(bindir, "infc")))
config.substitutions.append(("%FileCheck", config.filecheck))
config.substitutions.append(("%python", config.python))
config.substitutions.append(("%examples", os.path.join(config.infc_source_dir, "examples")))
config.substitutions.append(("%inputs", os.path.join(os.path.dirname(__file__), "Inputs")))
config.environment["PATH"] = os.pathsep.join([bindir, os.path.dirname(config.filecheck), config.environment.get("PATH", "")])
