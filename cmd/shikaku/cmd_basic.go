package main

import (
	"context"
	"fmt"

	"shikaku/csvin"
)

func init() {
	register(command{"init", "データベースのスキーマを作成・更新します", runInit})
	register(command{"import", "加入者（members）・事業所（employers）のファイルを取り込みます", runImport})
	register(command{"extract", "キャンペーン設定を登録し、加入者全員の送付対象を判定します", runExtract})
	register(command{"crossmatch", "資格喪失者データと突合します", runCrossMatch})
	register(command{"pack", "資格確認書・封筒・お問い合わせ番号・送付回を確定します", runPack})
	register(command{"export", "判定結果・封筒・対象者一覧表・集計をフォルダに出力します", runExport})
}

func runInit(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "init", "init [--db URL]")
	if _, err := f.parse(args); err != nil {
		return err
	}
	s, err := openStore(ctx, dbURL(*f.db))
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(e.stdout, "データベース %s を準備しました\n", redact(dbURL(*f.db)))
	return nil
}

func readOptions(f *flags) (*string, *bool) {
	enc := f.String("encoding", "auto", "文字コード: auto、utf-8、sjis")
	allow := f.Bool("allow-unknown-columns", false, "知らない列を無視する")
	return enc, allow
}

func csvOptions(enc string, allow bool) (csvin.Options, error) {
	e, err := csvin.ParseEncoding(enc)
	if err != nil {
		return csvin.Options{}, usageError{err.Error()}
	}
	return csvin.Options{Encoding: e, AllowUnknownColumns: allow}, nil
}

func runImport(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "import", "import members|employers FILE [--encoding auto|utf-8|sjis]")
	enc, allow := readOptions(f)
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("使い方: shikaku import members FILE または shikaku import employers FILE")
	}
	opt, err := csvOptions(*enc, *allow)
	if err != nil {
		return err
	}
	s, err := openStore(ctx, dbURL(*f.db))
	if err != nil {
		return err
	}
	defer s.Close()
	switch pos[0] {
	case "members":
		_, err = stepImportMembers(ctx, e, s, pos[1], opt)
	case "employers":
		_, err = stepImportEmployers(ctx, e, s, pos[1], opt)
	default:
		return usagef("取り込めるのは members（加入者）と employers（事業所）です: %q", pos[0])
	}
	return err
}

func runExtract(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "extract", "extract --campaign FILE")
	campaign := f.String("campaign", "", "キャンペーン設定ファイル（TOML）")
	if _, err := f.parse(args); err != nil {
		return err
	}
	if *campaign == "" {
		return usagef("--campaign でキャンペーン設定ファイルを指定してください")
	}
	s, err := openStore(ctx, dbURL(*f.db))
	if err != nil {
		return err
	}
	defer s.Close()
	_, _, err = stepExtract(ctx, e, s, *campaign)
	return err
}

func runCrossMatch(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "crossmatch", "crossmatch FILE [--encoding auto|utf-8|sjis]")
	enc, allow := readOptions(f)
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("使い方: shikaku crossmatch 資格喪失者データ.csv")
	}
	opt, err := csvOptions(*enc, *allow)
	if err != nil {
		return err
	}
	s, err := openStore(ctx, dbURL(*f.db))
	if err != nil {
		return err
	}
	defer s.Close()
	branch, err := campaignBranch(ctx, s, *f.branch)
	if err != nil {
		return err
	}
	_, err = stepCrossMatch(ctx, e, s, branch, pos[0], opt)
	return err
}

func runPack(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "pack", "pack")
	if _, err := f.parse(args); err != nil {
		return err
	}
	s, err := openStore(ctx, dbURL(*f.db))
	if err != nil {
		return err
	}
	defer s.Close()
	branch, err := campaignBranch(ctx, s, *f.branch)
	if err != nil {
		return err
	}
	_, err = stepPack(ctx, e, s, branch)
	return err
}

func runExport(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "export", "export DIR")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("使い方: shikaku export 出力先フォルダ")
	}
	s, err := openStore(ctx, dbURL(*f.db))
	if err != nil {
		return err
	}
	defer s.Close()
	branch, err := campaignBranch(ctx, s, *f.branch)
	if err != nil {
		return err
	}
	_, err = stepExport(ctx, e, s, branch, pos[0])
	return err
}
