int infcCompilerPlaceholder = 0;
