int infcOnnxPlaceholder = 0;
