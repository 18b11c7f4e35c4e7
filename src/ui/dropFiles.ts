/** Files from a drop (folders walked with the FileSystemEntry API) or a file input, with their paths (#17). */
import type { InputFile } from '../data/ownImport';

/** Walks a dropped folder (FileSystemEntry API) into files with their paths. */
export async function filesFromDataTransfer(items: DataTransferItemList): Promise<InputFile[]> {
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) loose.push(f);
    }
  }
  const out: InputFile[] = loose.map((f) => ({ path: f.name, blob: f }));
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      out.push({ path: `${prefix}${entry.name}`, blob: file });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const e of batch) await walk(e, `${prefix}${entry.name}/`);
      }
    }
  };
  for (const e of entries) await walk(e, '');
  return out;
}

/** Files from an <input type=file> (with webkitdirectory, their relative paths). */
export function filesFromInput(list: FileList): InputFile[] {
  return Array.from(list, (f) => ({ path: f.webkitRelativePath || f.name, blob: f }));
}
