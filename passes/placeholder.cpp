int infcPassesPlaceholder = 0;
