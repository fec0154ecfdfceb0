/** vscode-jsonrpc and the LSP protocol's browser build, in one place (tests swap it for Node). */
export * from 'vscode-languageserver-protocol/browser';
